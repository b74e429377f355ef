import type { EventEnvelope } from '@assistants/kit';
import { basic, readStreamFrom, startSmtpSink, startStack, type SmtpSink, type TestStack } from '@assistants/testing';

/**
 * What the assistants' end-to-end tests share (assistants-*.test.ts): one stack per file
 * (identity, catalog, assignment and the gateway on a real NATS and a fresh PostgreSQL),
 * everything set up and read through the gateway's HTTP API, runs started and followed the
 * way a client does, and the events each run published, found by the run's correlation id.
 * Each test makes its own users, courses, lists… (unique names), so tests do not depend on
 * each other's data.
 */

export interface RunResult {
  itemId: string;
  itemLabel: string;
  targetId: string;
  outcome: 'succeeded' | 'unchanged' | 'failed' | 'not_done';
  code: string;
  message: string;
}

export interface FinishedRun {
  run: any;
  results: RunResult[];
}

type Stream = 'IDENTITY' | 'CATALOG' | 'ASSIGNMENT' | 'STATISTICS';

/** The mail templates made for every file, by name, with their context. */
const MAIL_TEMPLATES = {
  'course-assigned': 'course_assignment',
  'assignment-changed': 'course_assignment',
  'course-removed': 'course_assignment',
  certificate: 'course_assignment',
  welcome: 'course_assignment',
  'path-assigned': 'curriculum_assignment',
  'path-changed': 'curriculum_assignment',
  'path-removed': 'curriculum_assignment',
} as const;

export const UNKNOWN_ID = '3f0c8a52-8a8e-4a57-9c38-2a4f1b0a0b0b';

/** The day (UTC) of `instant` plus n days, as YYYY-MM-DD. */
export function dayPlus(instant: string | Date, n: number): string {
  const date = new Date(instant);
  const day = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() + n));
  return day.toISOString().slice(0, 10);
}

export class Assistants {
  stack!: TestStack;
  /** The SMTP server the notification service sends to, when the file asked for one. */
  smtp?: SmtpSink;
  /** An organisation at the top, where users go unless a test says otherwise. */
  home!: string;
  private counter = 0;
  private readonly templateIds = new Map<string, string>();
  private readonly streams = new Map<Stream, { events: EventEnvelope<any>[]; next: number }>();

  /** Starts the stack before the file's tests and stops it after them. */
  static forFile(
    gatewayEnv: Record<string, string> = {},
    options: { smtp?: boolean; statisticsEnv?: Record<string, string> } = {},
  ): Assistants {
    const t = new Assistants();
    beforeAll(async () => {
      if (options.smtp) t.smtp = await startSmtpSink();
      // Small batches: every run of more than a few items goes in several calls.
      t.stack = await startStack(
        { GATEWAY_RUN_BATCH_SIZE: '4', GATEWAY_RUN_POLL_MS: '50', ...gatewayEnv },
        {},
        {
          smtpPort: t.smtp?.port,
          statisticsEnv: options.statisticsEnv,
        },
      );
      t.home = (await t.post('/v1/organisations', { extId: 'HOME', label: 'Home' })).id;
      for (const [name, context] of Object.entries(MAIL_TEMPLATES)) {
        const variants = [{ language: 'fr-FR', subject: name, text: `${name} {{ user.first_name }}` }];
        t.templateIds.set(name, (await t.post('/v1/mail-templates', { name, context, variants })).id);
      }
    }, 120_000);
    afterAll(async () => {
      await t.stack?.stop();
      await t.smtp?.stop();
    });
    return t;
  }

  /** The id of one of the mail templates every file has (MAIL_TEMPLATES), for the actions'
   * notifyTemplateId (a run refuses an unknown template). */
  template(name: keyof typeof MAIL_TEMPLATES): string {
    return this.templateIds.get(name)!;
  }

  /** A name nobody else in the file has. */
  unique(prefix: string): string {
    return `${prefix}-${++this.counter}`;
  }

  async request(method: string, path: string, body?: unknown, auth?: string) {
    return this.stack.http(method, path, { body, auth });
  }

  /** The body of a request that must succeed. */
  async call(method: string, path: string, body?: unknown, auth?: string) {
    const result = await this.request(method, path, body, auth);
    if (result.status >= 300) throw new Error(`${method} ${path}: ${result.status} ${JSON.stringify(result.body)}`);
    return result.body;
  }

  post = (path: string, body: unknown, auth?: string) => this.call('POST', path, body, auth);
  get = (path: string, auth?: string) => this.call('GET', path, undefined, auth);

  // ---- Setting up, through the API -------------------------------------------------------

  async newOrganisation(label: string, parentId?: string): Promise<string> {
    return (await this.post('/v1/organisations', { extId: this.unique(label.toUpperCase()), label, parentId })).id;
  }

  async newUser(fields: Record<string, unknown> = {}): Promise<{ id: string; login: string }> {
    const login = (fields.login as string | undefined) ?? this.unique('user');
    const user = await this.post('/v1/users', { lastName: login, firstName: 'Test', organisationId: this.home, ...fields, login });
    return { id: user.id, login };
  }

  async newUsers(n: number, fields: Record<string, unknown> = {}): Promise<{ id: string; login: string }[]> {
    const users = [];
    for (let i = 0; i < n; i++) users.push(await this.newUser(fields));
    return users;
  }

  async newAudience(name = this.unique('audience')): Promise<string> {
    return (await this.post('/v1/audiences', { name })).id;
  }

  async newCourse(fields: Record<string, unknown> = {}): Promise<{ id: string; code: string }> {
    const code = (fields.code as string | undefined) ?? this.unique('COURSE');
    const course = await this.post('/v1/courses', { name: `Course ${code}`, ...fields, code });
    return { id: course.id, code };
  }

  async newCurriculum(courseIds: string[], fields: Record<string, unknown> = {}): Promise<{ id: string; code: string }> {
    const code = (fields.code as string | undefined) ?? this.unique('PATH');
    const curriculum = await this.post('/v1/curricula', { name: `Curriculum ${code}`, courseIds, ...fields, code });
    return { id: curriculum.id, code };
  }

  async newList(memberIds: string[], name = this.unique('list')): Promise<string> {
    return (await this.post('/v1/lists', { name, type: 'static', memberIds })).id;
  }

  /** A user with a password and one role on the sub-tree of `organisationId`: an
   * administrator whose scope is that sub-tree. */
  async scopedAdministrator(organisationId: string, permissions: string[]): Promise<{ id: string; auth: string }> {
    const login = this.unique('scoped-admin');
    const password = 'scoped admin password';
    const { id } = await this.newUser({ login, organisationId, password });
    const role = await this.post('/v1/roles', { name: this.unique('Scoped role'), permissions });
    await this.post(`/v1/users/${id}/roles`, { roleIds: [role.id], organisationId });
    return { id, auth: basic(login, password) };
  }

  // ---- Runs ----------------------------------------------------------------------------

  /** POST /v1/runs as it answers (a 202, or the refusal). */
  startRun(body: { assistant: string; action: string; selection: unknown; params?: unknown; dryRun?: boolean }, auth?: string) {
    return this.request('POST', '/v1/runs', body, auth);
  }

  /** Starts a run, waits until it has completed, and reads all its results. */
  async run(
    body: { assistant: string; action: string; selection: unknown; params?: unknown; dryRun?: boolean },
    auth?: string,
  ): Promise<FinishedRun> {
    const created = await this.startRun(body, auth);
    if (created.status !== 202) throw new Error(`run refused: ${created.status} ${JSON.stringify(created.body)}`);
    const run = await this.waitForRun(created.body.id, auth);
    if (run.status !== 'completed') throw new Error(`run ${run.id} ended ${run.status}`);
    const results: RunResult[] = [];
    let after = '';
    do {
      const page = await this.get(`/v1/runs/${run.id}/results?limit=1000${after ? `&after=${after}` : ''}`, auth);
      results.push(...page.items);
      after = page.nextCursor;
    } while (after);
    return { run, results };
  }

  async waitForRun(id: string, auth?: string): Promise<any> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const run = await this.get(`/v1/runs/${id}`, auth);
      if (run.status === 'completed' || run.status === 'cancelled') return run;
      if (Date.now() > deadline) throw new Error(`run ${id} still ${run.status}: ${JSON.stringify(run)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Runs of the user assistant over these users. */
  users(action: string, userIds: string[], params: unknown, options: { dryRun?: boolean; auth?: string } = {}) {
    return this.run({ assistant: 'users', action, selection: { type: 'ids', ids: userIds }, params, dryRun: options.dryRun }, options.auth);
  }

  courses(action: string, courseIds: string[], params: unknown, options: { auth?: string } = {}) {
    return this.run({ assistant: 'courses', action, selection: { type: 'ids', ids: courseIds }, params }, options.auth);
  }

  curricula(action: string, curriculumIds: string[], params: unknown, options: { auth?: string } = {}) {
    return this.run({ assistant: 'curricula', action, selection: { type: 'ids', ids: curriculumIds }, params }, options.auth);
  }

  // ---- Reading the state back ------------------------------------------------------------

  user = (id: string) => this.get(`/v1/users/${id}`);
  course = (id: string) => this.get(`/v1/courses/${id}`);
  curriculum = (id: string) => this.get(`/v1/curricula/${id}`);
  assignmentsOf = (userId: string) => this.get(`/v1/users/${userId}/assignments`);

  /** A user's course assignments, by course id. */
  async courseAssignments(userId: string): Promise<Map<string, any>> {
    return new Map((await this.assignmentsOf(userId)).courseAssignments.map((a: any) => [a.courseId, a]));
  }

  async curriculumAssignments(userId: string): Promise<Map<string, any>> {
    return new Map((await this.assignmentsOf(userId)).curriculumAssignments.map((a: any) => [a.curriculumId, a]));
  }

  /** Waits (the list consumer is asynchronous) until `check` gives something other than
   * undefined, and returns it. */
  async eventually<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 15_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await check();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`still not: ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  // ---- Events ----------------------------------------------------------------------------

  /** Every event of a stream published so far (the services' outboxes flushed first). */
  async events(stream: Stream): Promise<EventEnvelope<any>[]> {
    const service = {
      IDENTITY: this.stack.identity,
      CATALOG: this.stack.catalog,
      ASSIGNMENT: this.stack.assignment,
      STATISTICS: this.stack.statistics,
    }[stream];
    await service.flushEvents();
    const seen = this.streams.get(stream) ?? { events: [], next: 1 };
    // Read up to the last message known now; what comes later is read next time.
    const { events, nextSeq } = await readStreamFrom(service.bus, stream, seen.next);
    seen.events.push(...events);
    seen.next = nextSeq;
    this.streams.set(stream, seen);
    return seen.events;
  }

  /** The events a run published on a stream: those under its correlation id. */
  async eventsOf(run: { correlationId: string }, stream: Stream): Promise<EventEnvelope<any>[]> {
    return (await this.events(stream)).filter((e) => e.correlationId === run.correlationId);
  }
}

/** Results as short lines, e.g. "ann COURSE-3: succeeded" or "bob: unchanged ALREADY_SET";
 * targets are named by `names` (id → name) when given. */
export function lines(results: RunResult[], names: Record<string, string> = {}): string[] {
  return results.map(
    (r) =>
      `${names[r.itemId] ?? r.itemLabel}${r.targetId ? ` ${names[r.targetId] ?? r.targetId}` : ''}: ${r.outcome}${r.code ? ` ${r.code}` : ''}`,
  );
}

/** The subjects of some events, with the id of the user (or object) each is about. */
export function subjects(events: EventEnvelope<any>[]): string[] {
  return events.map((e) => e.subject);
}
