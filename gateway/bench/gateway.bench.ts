/**
 * bench:gateway — BENCH_ADMINS (200) administrators at once, each with its own bearer token,
 * searching users and courses, resolving user and course selections and reading users
 * through the gateway's HTTP API. Every part of the suite runs in its own process (as
 * `npm start` runs them) on the real PostgreSQL server (a database of its own, dropped at the
 * end) and a nats-server of its own. The load comes from autocannon, one connection per
 * administrator.
 *
 *   npm run bench:gateway                      # 200 administrators for 60 s
 *   BENCH_SECONDS=20 npm run bench:gateway     # shorter
 *   BENCH_ADMIN_RATE=1 npm run bench:gateway   # administrators who think: each sends a request a second
 *   BENCH_LOCKSTEP=1 npm run bench:gateway     # every administrator starts with the same search (before 28 Nov 2026)
 *   BENCH_KEEP_DATABASE=1 npm run bench:gateway  # the database is not dropped (EXPLAIN its queries)
 *   npm run build && BENCH_COMPILED=1 npm run bench:gateway   # the compiled parts, as containers run them
 *   GATEWAY_CONCURRENT_REQUESTS=10000 npm run bench:gateway   # without the gateway's admission queue (default 32)
 *
 * Data (demo-like): an organisation tree of 4 countries, 12 cities and 60 departments,
 * 8 audiences and BENCH_USERS (20,000) users in the departments (seeded by SQL: names,
 * logins, emails, promotions, audiences, 5 % disabled), BENCH_COURSES (1,000) courses created
 * through the API. The administrators are created through the API with a password and logged
 * in with POST /v1/sessions: a tenth hold the built-in Administrator role on the root, the
 * others a read-only "user manager" role on a country, a city or a department, so that their
 * searches go through identity's scope checks as any scoped administrator's do.
 *
 * Each administrator goes round the same six requests, with the filters it rotates through,
 * from a request and a filter of its own (BENCH_LOCKSTEP=1: all from the same search):
 * user-search (POST /v1/users/search), user-read (GET /v1/users/:id of a user it found),
 * user-selection (POST /v1/selections/users/resolve: the filter minus a few users, or 20
 * ids), user-read again, course-search (POST /v1/courses/search), course-selection (POST
 * /v1/selections/courses/resolve). With no BENCH_ADMIN_RATE an administrator sends its next
 * request as soon as the last one is answered (no think time: a stress test, the latency is
 * then mostly the wait for the two cores). With BENCH_ADMIN_RATE each one sends that many
 * requests a second, from a moment drawn at random (administrators do not click in step), on a
 * connection of its own; its RESULT lines are then named `…_paced`.
 *
 * The gateway runs with its default rate limit (GATEWAY_RATE_LIMIT_PER_MINUTE per user): 429s
 * are counted apart from errors. After BENCH_WARMUP_SECONDS (5) of the same load, not counted,
 * it measures for BENCH_SECONDS (60): requests/s and p50/p95/p99 latency per request kind and
 * overall, and the CPU each process used (/proc/<pid>/stat of the suite's processes, of
 * nats-server and of the PostgreSQL backends of the bench's database). Ends with lines
 * `RESULT <name> <value> <unit> target <op> <value> met|missed`: p99 <= 500 ms overall and
 * per kind, no error. Results go in BENCHMARKS.md.
 */
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import os from 'node:os';
import autocannon from 'autocannon';
import pg from 'pg';
import { basic, cpuLines, createTestDatabase, startNats, startSuiteProcesses, watchCpu, type SuiteProcesses } from '@assistants/testing';
import { GatewayConfigSchema } from '../src/config';

const ADMINS = Number(process.env.BENCH_ADMINS ?? 200);
const USERS = Number(process.env.BENCH_USERS ?? 20_000);
const COURSES = Number(process.env.BENCH_COURSES ?? 1_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 5);
/** Requests per second of each administrator; none: the next request as soon as the last is answered. */
const ADMIN_RATE = process.env.BENCH_ADMIN_RATE ? Number(process.env.BENCH_ADMIN_RATE) : undefined;
const TARGET_P99_MS = 500;
/** BENCH_LOCKSTEP=1: every administrator starts its round with the same request and filter. */
const LOCKSTEP = process.env.BENCH_LOCKSTEP === '1';
/** BENCH_COMPILED=1 (after npm run build): the compiled parts with plain node, as containers run them. */
const COMPILED = process.env.BENCH_COMPILED === '1';
/** The product's default, which the bench keeps (the test suite starter raises it). */
const RATE_LIMIT_PER_MINUTE = String(GatewayConfigSchema.properties.GATEWAY_RATE_LIMIT_PER_MINUTE.default);
const ADMIN_PASSWORD = 'bench administrator password';
const ADMINISTRATOR_ROLE = 'Administrator';

const log = (message: string) => process.stdout.write(`${message}\n`);
type Call = SuiteProcesses['call'];

/** Deterministic choices, so that every run has the same data. */
let seed = 42;
function pick<T>(items: readonly T[]): T {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  // The high bits: the low bits of this generator repeat with a short period.
  return items[Math.floor((seed / 2 ** 31) * items.length)]!;
}

async function inBatches<T>(items: T[], size: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map((item, j) => work(item, i + j)));
}

// ---- Data -------------------------------------------------------------------------------

const COUNTRIES = [
  { code: 'FR', label: 'France', language: 'fr-FR', cities: ['Paris', 'Lyon', 'Lille', 'Nantes'] },
  { code: 'ES', label: 'Spain', language: 'es-ES', cities: ['Madrid', 'Barcelona', 'Sevilla'] },
  { code: 'UK', label: 'United Kingdom', language: 'en-EN', cities: ['London', 'Manchester', 'Leeds'] },
  { code: 'BE', label: 'Belgium', language: 'fr-FR', cities: ['Brussels', 'Liege'] },
] as const;
const DEPARTMENTS = ['Sales', 'Support', 'IT', 'Finance', 'Logistics'];
const AUDIENCES = ['Managers', 'Sales people', 'New hires', 'Safety', 'Remote workers', 'First aiders', 'Interns', 'Mentors'];
const LAST_NAMES = [
  'Martin', 'Bernard', 'Dubois', 'Thomas', 'Robert', 'Richard', 'Petit', 'Durand', 'Leroy', 'Moreau', 'Simon', 'Laurent',
  'Lefebvre', 'Michel', 'Garcia', 'Fernandez', 'Lopez', 'Smith', 'Jones', 'Taylor', 'Brown', 'Wilson', 'Dupont', 'Dupuis',
  'Fontaine', 'Chevalier', 'Roux', 'Vincent', 'Morel', 'Girard', 'Marchand', 'Mercier', 'Blanc', 'Guérin', 'Müller', "O'Brien",
]; // prettier-ignore
const FIRST_NAMES = [
  'Marie', 'Jean', 'Pierre', 'Sophie', 'Camille', 'Lucas', 'Léa', 'Hugo', 'Emma', 'Louis', 'Chloé', 'Gabriel', 'Inès',
  'Jules', 'Alice', 'Carmen', 'Pablo', 'Lucía', 'Oliver', 'Amelia', 'Harry', 'Isla', 'Émilie', 'Noah',
]; // prettier-ignore
const EMAIL_DOMAINS = ['gmail.com', 'gmail.com', 'orange.fr', 'outlook.com', 'free.fr', 'yahoo.es', 'corp.example', 'corp.example'];
const COURSE_TOPICS = [
  'Safety',
  'Excel',
  'GDPR',
  'Negotiation',
  'Leadership',
  'First aid',
  'Onboarding',
  'Customer care',
  'Python',
  'Ethics',
];
const COURSE_LEVELS = ['basics', 'intermediate', 'advanced', 'refresher'];
const PROVIDERS = ['Internal academy', 'Open campus', 'Skills partner', 'Vendor'];
const MODALITIES = ['e-learning', 'classroom', 'blended', 'virtual classroom'];

interface Organisation {
  id: string;
  label: string;
  /** The organisation and every one under it (a filter's organisation stays in the scope). */
  subTree: string[];
}

interface Data {
  rootId: string;
  countries: Organisation[];
  cities: Organisation[];
  departments: Organisation[];
}

async function seedOrganisations(call: Call): Promise<Data> {
  const rootId: string = (await call('GET', '/v1/organisations')).items[0].id;
  const data: Data = { rootId, countries: [], cities: [], departments: [] };
  for (const country of COUNTRIES) {
    const countryOrg = await call('POST', '/v1/organisations', {
      extId: `BENCH-${country.code}`,
      label: country.label,
      language: country.language,
    });
    const countryTree: string[] = [countryOrg.id];
    for (const city of country.cities) {
      const cityOrg = await call('POST', '/v1/organisations', {
        extId: `BENCH-${country.code}-${city.toUpperCase()}`,
        label: city,
        parentId: countryOrg.id,
      });
      const cityTree: string[] = [cityOrg.id];
      for (const department of DEPARTMENTS) {
        const org = await call('POST', '/v1/organisations', {
          extId: `BENCH-${country.code}-${city.toUpperCase()}-${department.toUpperCase()}`,
          label: `${city} ${department}`,
          parentId: cityOrg.id,
        });
        data.departments.push({ id: org.id, label: org.label, subTree: [org.id] });
        cityTree.push(org.id);
      }
      data.cities.push({ id: cityOrg.id, label: city, subTree: cityTree });
      countryTree.push(...cityTree);
    }
    data.countries.push({ id: countryOrg.id, label: country.label, subTree: countryTree });
  }
  return data;
}

/** The users, by SQL in chunks (20,000 through the API would take minutes and measure
 * something else); identity's triggers keep its search projection as for any insert. */
/** Fresh statistics for the planner on every table, as autovacuum keeps them on a server
 * that runs it (it is off on some machines, this one included: the organisations' rows were
 * then estimated at one and the scoped searches planned as nested loops, ten times slower). */
async function analyze(databaseUrl: string): Promise<void> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    await db.query('ANALYZE');
  } finally {
    await db.end();
  }
}

async function seedUsers(databaseUrl: string, data: Data, audienceIds: string[]): Promise<void> {
  const db = new pg.Client({ connectionString: databaseUrl, options: '-c search_path=identity' });
  await db.connect();
  try {
    const CHUNK = 5_000;
    for (let from = 0; from < USERS; from += CHUNK) {
      const columns: Record<string, unknown[]> = {
        login: [], ext_id: [], last_name: [], first_name: [], email: [], language: [], organisation_id: [], city: [], custom1: [], custom2: [], disabled: [],
      }; // prettier-ignore
      const audiencesOf: string[][] = [];
      for (let i = from; i < Math.min(from + CHUNK, USERS); i++) {
        const lastName = pick(LAST_NAMES);
        const firstName = pick(FIRST_NAMES);
        const department = pick(data.departments);
        const login = `${firstName[0]}${lastName}${i}`
          .toLowerCase()
          .normalize('NFD')
          .replace(/[^a-z0-9]/g, '');
        columns.login!.push(login);
        columns.ext_id!.push(`EMP${100000 + i}`);
        columns.last_name!.push(lastName);
        columns.first_name!.push(firstName);
        columns.email!.push(`${login}@${pick(EMAIL_DOMAINS)}`);
        columns.language!.push(pick(['fr-FR', 'en-EN', 'es-ES']));
        columns.organisation_id!.push(department.id);
        columns.city!.push(department.label.split(' ')[0]);
        columns.custom1!.push(pick(['', 'promo 2021', 'promo 2022', 'promo 2023', 'promo 2024', 'promo 2025']));
        columns.custom2!.push(department.label.split(' ')[1]);
        columns.disabled!.push(i % 20 === 19);
        audiencesOf.push([...new Set([pick([...audienceIds, '', '', '', '']), pick([audienceIds[0]!, '', '', ''])].filter(Boolean))]);
      }
      const names = Object.keys(columns);
      const types = names.map((n) => (n === 'organisation_id' ? 'uuid[]' : n === 'disabled' ? 'boolean[]' : 'text[]'));
      const { rows } = await db.query<{ id: string }>(
        `INSERT INTO users (${names.join(', ')})
         SELECT * FROM unnest(${types.map((t, i) => `$${i + 1}::${t}`).join(', ')})
         RETURNING id`,
        names.map((n) => columns[n]),
      );
      // RETURNING gives the rows in the order of the unnest.
      const pairs = rows.flatMap((row, i) => audiencesOf[i]!.map((audienceId) => [row.id, audienceId]));
      await db.query('INSERT INTO user_audiences (user_id, audience_id) SELECT * FROM unnest($1::uuid[], $2::uuid[])', [
        pairs.map((p) => p[0]),
        pairs.map((p) => p[1]),
      ]);
    }
    await db.query('VACUUM ANALYZE users, user_search, user_audiences');
  } finally {
    await db.end();
  }
}

async function seedCourses(call: Call, audienceIds: string[]): Promise<void> {
  const specs = Array.from({ length: COURSES }, (_, i) => ({
    code: `CRS-${i + 1}`,
    name: `${pick(COURSE_TOPICS)} ${pick(COURSE_LEVELS)} ${i + 1}`,
    provider: pick(PROVIDERS),
    modality: pick(MODALITIES),
    custom1: pick(['', 'mandatory', 'recommended']),
    audienceIds: [pick([...audienceIds, '', ''])].filter(Boolean),
  }));
  await inBatches(specs, 8, async (spec) => void (await call('POST', '/v1/courses', spec)));
}

// ---- Administrators ---------------------------------------------------------------------

interface Admin {
  login: string;
  id: string;
  token: string;
  /** Where its role applies: "root", a country, a city or a department. */
  level: string;
  scope: Organisation;
}

/** A tenth of them on the root with the Administrator role; the others read-only user
 * managers of a country (2 in 10), a city (4 in 10) or a department (3 in 10). */
function scopeOf(i: number, data: Data): { level: string; scope: Organisation } {
  const slot = i % 10;
  if (slot === 0) {
    const all = [data.rootId, ...data.countries.flatMap((c) => c.subTree)];
    return { level: 'root', scope: { id: data.rootId, label: 'Root', subTree: all } };
  }
  if (slot <= 2) return { level: 'country', scope: data.countries[i % data.countries.length]! };
  if (slot <= 6) return { level: 'city', scope: data.cities[i % data.cities.length]! };
  return { level: 'department', scope: data.departments[i % data.departments.length]! };
}

async function createAdmins(call: Call, api: string, data: Data): Promise<Admin[]> {
  const roles: { id: string; name: string }[] = (await call('GET', '/v1/roles?limit=500')).items;
  const administrator = roles.find((r) => r.name === ADMINISTRATOR_ROLE)!.id;
  const manager = (
    await call('POST', '/v1/roles', {
      name: 'Bench user manager',
      description: 'Finds and reads the users of an organisation sub-tree, and the catalogue',
      permissions: ['users:read', 'organisations:read', 'lists:read', 'catalog:read'],
    })
  ).id;
  const admins: Admin[] = new Array(ADMINS);
  // 4 at a time: each costs identity three argon2id hashes (creation, and the login's check twice).
  await inBatches([...Array(ADMINS).keys()], 4, async (i) => {
    const { level, scope } = scopeOf(i, data);
    const login = `bench-admin-${i}`;
    const user = await call('POST', '/v1/users', {
      login,
      lastName: 'Admin',
      firstName: `Bench ${i}`,
      organisationId: scope.id,
      password: ADMIN_PASSWORD,
    });
    await call('POST', `/v1/users/${user.id}/roles`, { roleIds: [level === 'root' ? administrator : manager], organisationId: scope.id });
    const response = await fetch(`${api}/v1/sessions`, { method: 'POST', headers: { authorization: basic(login, ADMIN_PASSWORD) } });
    if (response.status !== 201) throw new Error(`login of ${login}: ${response.status} ${await response.text()}`);
    const { token } = (await response.json()) as { token: string };
    admins[i] = { login, id: user.id, token, level, scope };
  });
  return admins;
}

// ---- Requests ---------------------------------------------------------------------------

const KINDS = ['user-search', 'user-read', 'user-selection', 'course-search', 'course-selection'] as const;
type Kind = (typeof KINDS)[number];

/** The user filters an administrator rotates through (an organisation from its own scope). */
function userFilters(admin: Admin, i: number): object[] {
  const sub = admin.scope.subTree[i % admin.scope.subTree.length]!;
  const fragment = ['mar', 'dup', 'ber', 'rob', 'mor', 'gué'][i % 6];
  return [
    { lastName: fragment },
    { email: 'orange.fr' },
    { custom1: '2023' },
    { match: 'any', lastName: 'dup', custom1: '2024' },
    { organisationId: sub, includeSubOrganisations: true, audience: 'safety' },
    { firstName: 'émi', includeDisabled: true },
    { login: 'ber', custom2: 'sales' },
  ];
}

const COURSE_FILTERS: object[] = [
  { name: 'safety' },
  { name: 'excel adv' },
  { code: 'CRS-1' },
  { provider: 'academy', modality: 'classroom' },
  { match: 'any', name: 'gdpr', custom1: 'mandatory' },
  { audience: 'new hires' },
];

/** What one administrator's connection remembers between its requests. */
interface ClientState {
  admin: Admin;
  round: number;
  userFilter: object;
  courseFilter: object;
  userIds: string[];
  courseIds: string[];
  /** The kind of the request just answered (onResponse runs just before the response event). */
  kind: Kind;
}

/** The `n`th administrator's connection: what it remembers, and its round of six requests.
 * Administrators work independently: each one starts its round at a request and a filter of
 * its own (the nth of the round, the nth filter), as 200 people at their desks would; with
 * BENCH_LOCKSTEP=1 every one starts with the same search, as the bench did before 28 Nov 2026
 * (the admission queue then keeps them in step: 200 searches of one filter, then 200 reads…). */
function administrator(admin: Admin, n: number, errors: Map<Kind, string[]>): { state: ClientState; requests: autocannon.Request[] } {
  const start = LOCKSTEP ? 0 : n;
  const filters = userFilters(admin, Number(admin.login.split('-').pop()));
  const state: ClientState = { admin, round: start, userFilter: {}, courseFilter: {}, userIds: [], courseIds: [], kind: 'user-search' };
  takeFilters(state, filters);
  const round = requestsOf(state, filters, errors);
  const first = start % round.length;
  return { state, requests: [...round.slice(first), ...round.slice(0, first)] };
}

/** The user and course filters of the administrator's round. */
function takeFilters(state: ClientState, filters: object[]): void {
  state.userFilter = filters[state.round % filters.length]!;
  state.courseFilter = COURSE_FILTERS[state.round % COURSE_FILTERS.length]!;
}

/** The six requests of an administrator's round, as autocannon requests of its connection. */
function requestsOf(state: ClientState, filters: object[], errors: Map<Kind, string[]>): autocannon.Request[] {
  const { admin } = state;
  const headers = { authorization: `Bearer ${admin.token}`, 'content-type': 'application/json' };
  const readHeaders = { authorization: `Bearer ${admin.token}` };
  const answered = (kind: Kind, onOk?: (body: any) => void) => (status: number, body: string) => {
    state.kind = kind;
    if (status >= 200 && status < 300) onOk?.(JSON.parse(body));
    else if (status !== 429) {
      const samples = errors.get(kind) ?? [];
      if (samples.length < 3) samples.push(`${status} ${body.slice(0, 300)}`);
      errors.set(kind, samples);
    }
  };
  const post = (path: string, kind: Kind, body: () => object, onOk?: (body: any) => void): autocannon.Request => ({
    method: 'POST',
    path,
    headers,
    setupRequest: (request) => ({ ...request, body: JSON.stringify(body()) }),
    onResponse: answered(kind, onOk),
  });
  const read = (nth: number): autocannon.Request => ({
    method: 'GET',
    headers: readHeaders,
    // A user the last search found (the administrator itself when it found none).
    setupRequest: (request) => ({ ...request, path: `/v1/users/${state.userIds[(state.round + nth) % state.userIds.length] ?? admin.id}` }),
    onResponse: answered('user-read'),
  });
  return [
    post(
      '/v1/users/search',
      'user-search',
      () => {
        state.round++;
        takeFilters(state, filters);
        // Every third search asks for the second page.
        return { filter: state.userFilter, limit: 50, offset: state.round % 3 === 2 ? 50 : 0 };
      },
      (page) => (state.userIds = page.items.map((u: { id: string }) => u.id)),
    ),
    read(0),
    post('/v1/selections/users/resolve', 'user-selection', () => ({
      // The recap of a run: the filter minus the users taken out, or users picked one by one.
      selection:
        state.round % 2 === 0 || state.userIds.length === 0
          ? { type: 'filter', filter: state.userFilter, excludeIds: state.userIds.slice(0, 3) }
          : { type: 'ids', ids: state.userIds.slice(0, 20) },
      limit: 50,
    })),
    read(7),
    post(
      '/v1/courses/search',
      'course-search',
      () => ({ filter: state.courseFilter, limit: 50 }),
      (page) => (state.courseIds = page.items.map((c: { id: string }) => c.id)),
    ),
    post('/v1/selections/courses/resolve', 'course-selection', () => ({
      selection:
        state.round % 2 === 0 || state.courseIds.length === 0
          ? { type: 'filter', filter: state.courseFilter, excludeIds: state.courseIds.slice(0, 2) }
          : { type: 'ids', ids: state.courseIds.slice(0, 10) },
      limit: 50,
    })),
  ];
}

interface Recorded {
  latencies: Map<Kind, number[]>;
  statuses: Map<Kind, Map<number, number>>;
  errors: Map<Kind, string[]>;
  /** The run's seconds, its requests sent, and those without an answer (socket errors, of
   * which time-outs), as autocannon counts them. */
  result: Pick<autocannon.Result, 'duration' | 'errors' | 'timeouts'> & { requests: { total: number } };
}

/** One autocannon run: a connection per administrator, each going round its requests. */
async function load(api: string, admins: Admin[], seconds: number): Promise<Recorded> {
  const latencies = new Map<Kind, number[]>(KINDS.map((k) => [k, []]));
  const statuses = new Map<Kind, Map<number, number>>(KINDS.map((k) => [k, new Map()]));
  const errors = new Map<Kind, string[]>();
  const states = new Map<autocannon.Client, ClientState>();
  let next = 0;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: api,
        connections: admins.length,
        duration: seconds,
        timeout: 30,
        setupClient: (client) => {
          const n = next++;
          const { state, requests } = administrator(admins[n % admins.length]!, n, errors);
          states.set(client, state);
          client.setRequests(requests);
        },
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
    instance.on('response', (client, statusCode, _bytes, ms) => {
      const { kind } = states.get(client)!;
      const counts = statuses.get(kind)!;
      counts.set(statusCode, (counts.get(statusCode) ?? 0) + 1);
      if (statusCode >= 200 && statusCode < 300) latencies.get(kind)!.push(ms);
    });
  });
  return { latencies, statuses, errors, result };
}

/** Administrators who think between clicks: each one, on a connection of its own, sends a
 * request every 1/`rate` s from a moment of the first period drawn at random, the next one as
 * soon as the last is answered when that took longer. (autocannon's connectionRate starts every
 * connection's second at the same instant: 200 requests at once, then none for a second.) */
async function paced(api: string, admins: Admin[], seconds: number, rate: number): Promise<Recorded> {
  const latencies = new Map<Kind, number[]>(KINDS.map((k) => [k, []]));
  const statuses = new Map<Kind, Map<number, number>>(KINDS.map((k) => [k, new Map()]));
  const errors = new Map<Kind, string[]>();
  const counts = { total: 0, errors: 0, timeouts: 0 };
  const periodMs = 1000 / rate;
  const started = performance.now();
  const until = started + seconds * 1000;
  await Promise.all(
    admins.map(async (admin, n) => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const { state, requests } = administrator(admin, n, errors);
      let due = started + Math.random() * periodMs;
      try {
        for (let i = 0; ; i++) {
          await sleep(Math.max(0, due - performance.now()));
          if (performance.now() >= until) return;
          // The next one a period after this one is sent (at once after its answer, if later).
          due = performance.now() + periodMs;
          const planned = requests[i % requests.length]!;
          const { setupRequest, onResponse } = planned as Planned;
          const request = setupRequest?.({ ...planned }, {}) ?? planned;
          counts.total++;
          const sent = performance.now();
          try {
            const answer = await send(api, agent, request);
            const ms = performance.now() - sent;
            onResponse?.(answer.status, answer.body, {});
            const byStatus = statuses.get(state.kind)!;
            byStatus.set(answer.status, (byStatus.get(answer.status) ?? 0) + 1);
            if (answer.status >= 200 && answer.status < 300) latencies.get(state.kind)!.push(ms);
          } catch (error) {
            counts.errors++;
            if ((error as Error).message === 'time-out') counts.timeouts++;
          }
        }
      } finally {
        agent.destroy();
      }
    }),
  );
  return {
    latencies,
    statuses,
    errors,
    result: {
      duration: (performance.now() - started) / 1000,
      errors: counts.errors,
      timeouts: counts.timeouts,
      requests: { total: counts.total },
    },
  };
}

/** What the paced load calls of an autocannon request (its type lets any field be a string). */
interface Planned {
  setupRequest?: (request: autocannon.Request, context: object) => autocannon.Request;
  onResponse?: (status: number, body: string, context: object) => void;
}

/** One HTTP request on `agent`'s connection: its status and body; throws on a socket error or
 * after 30 s without an answer. */
function send(api: string, agent: http.Agent, request: autocannon.Request): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = http.request(
      new URL(request.path!, api),
      { method: request.method, headers: request.headers as http.OutgoingHttpHeaders, agent, timeout: 30_000 },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode!, body }));
        response.on('error', reject);
      },
    );
    outgoing.on('timeout', () => outgoing.destroy(new Error('time-out')));
    outgoing.on('error', reject);
    outgoing.end(request.body as string | undefined);
  });
}

/** The load of `seconds`: administrators without think time (autocannon), or paced ones. */
const drive = (api: string, admins: Admin[], seconds: number) =>
  ADMIN_RATE === undefined ? load(api, admins, seconds) : paced(api, admins, seconds, ADMIN_RATE);

/** A RESULT line's name: paced runs are not the stress test's figures. */
const named = (name: string) => (ADMIN_RATE === undefined ? name : `${name}_paced`);

// ---- Report -----------------------------------------------------------------------------

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const ms = (value: number) => (Number.isNaN(value) ? '—' : `${Math.round(value)}`);

async function main(): Promise<void> {
  const cpus = os.cpus();
  log(
    `bench:gateway — ${ADMINS} administrators, ${USERS} users, ${COURSES} courses, ${SECONDS} s` +
      `${ADMIN_RATE === undefined ? ' (no think time)' : `, ${ADMIN_RATE} requests/s per administrator`}; ` +
      `${COMPILED ? 'compiled parts' : 'parts run with tsx'}; ` +
      `${os.availableParallelism()} × ${cpus[0]?.model}, Node ${process.version}, ${new Date().toISOString()}`,
  );
  const [nats, database] = await Promise.all([startNats(), createTestDatabase('bench_gateway')]);
  let suite: SuiteProcesses | undefined;
  try {
    suite = await startSuiteProcesses({
      natsUrl: nats.url,
      databaseUrl: database.url,
      gatewayEnv: { GATEWAY_RATE_LIMIT_PER_MINUTE: RATE_LIMIT_PER_MINUTE },
      compiled: COMPILED,
    });
    const { call, api } = suite;
    const seeding = performance.now();
    const data = await seedOrganisations(call);
    const audienceIds: string[] = [];
    for (const name of AUDIENCES) audienceIds.push((await call('POST', '/v1/audiences', { name })).id);
    await seedUsers(database.url, data, audienceIds);
    await seedCourses(call, audienceIds);
    const admins = await createAdmins(call, api, data);
    await analyze(database.url);
    const perLevel = new Map<string, number>();
    for (const a of admins) perLevel.set(a.level, (perLevel.get(a.level) ?? 0) + 1);
    const levels = [...perLevel].map(([level, n]) => `${n} ${level}`);
    log(
      `  seeded in ${((performance.now() - seeding) / 1000).toFixed(1)} s: ${data.countries.length + data.cities.length + data.departments.length + 1} ` +
        `organisations, ${AUDIENCES.length} audiences, ${USERS} users (SQL), ${COURSES} courses (API), ${ADMINS} administrators logged in (${levels.join(', ')})`,
    );
    const root = admins.find((a) => a.level === 'root')!;
    const totals = [];
    for (const filter of userFilters(root, 0)) {
      totals.push(`${JSON.stringify(filter)} ${(await call('POST', '/v1/users/search', { filter, limit: 1 })).total}`);
    }
    for (const filter of COURSE_FILTERS) {
      totals.push(`${JSON.stringify(filter)} ${(await call('POST', '/v1/courses/search', { filter, limit: 1 })).total}`);
    }
    log(`  matches for a root administrator: ${totals.join('; ')}`);
    log(`  gateway rate limit: ${RATE_LIMIT_PER_MINUTE} requests/min per user (the product default)`);

    if (WARMUP_SECONDS > 0) {
      const warm = await drive(api, admins, WARMUP_SECONDS);
      log(`  warm-up: ${WARMUP_SECONDS} s, ${warm.result.requests.total} requests (not counted)`);
    }
    const cpu = await watchCpu(suite, ADMIN_RATE === undefined ? 'bench (autocannon)' : 'bench (paced load)');
    const loadAverage = os.loadavg()[0]!;
    const run = await drive(api, admins, SECONDS);
    const usage = await cpu.stop();
    const { result } = run;
    const elapsed = result.duration; // seconds, as autocannon measured the run

    log(`\n  load average at the start ${loadAverage.toFixed(2)}, at the end ${os.loadavg()[0]!.toFixed(2)}`);
    log('  | kind | requests | requests/s | p50 ms | p95 ms | p99 ms | max ms | 429 | errors |');
    log('  |---|---:|---:|---:|---:|---:|---:|---:|---:|');
    const all: number[] = [];
    let limited = 0;
    let failed = 0;
    const lines: string[] = [];
    for (const kind of KINDS) {
      const sorted = run.latencies.get(kind)!.sort((a, b) => a - b);
      all.push(...sorted);
      let count = 0;
      let kindLimited = 0;
      let kindFailed = 0;
      for (const [status, n] of run.statuses.get(kind)!) {
        count += n;
        if (status === 429) kindLimited += n;
        else if (status < 200 || status >= 300) kindFailed += n;
      }
      limited += kindLimited;
      failed += kindFailed;
      const p99 = percentile(sorted, 99);
      log(
        `  | ${kind} | ${count} | ${(count / elapsed).toFixed(1)} | ${ms(percentile(sorted, 50))} | ${ms(percentile(sorted, 95))} | ` +
          `${ms(p99)} | ${ms(sorted.at(-1) ?? NaN)} | ${kindLimited} | ${kindFailed} |`,
      );
      lines.push(
        `RESULT ${named(`gateway_p99_${kind.replace('-', '_')}`)} ${ms(p99)} ms target <= ${TARGET_P99_MS} ${p99 <= TARGET_P99_MS ? 'met' : 'missed'}`,
      );
    }
    all.sort((a, b) => a - b);
    // Socket errors and time-outs are errors too (autocannon counts them apart from answers).
    failed += result.errors;
    const answered = KINDS.reduce((n, k) => n + [...run.statuses.get(k)!.values()].reduce((a, b) => a + b, 0), 0);
    const p99 = percentile(all, 99);
    log(
      `  | all | ${answered} | ${(answered / elapsed).toFixed(1)} | ${ms(percentile(all, 50))} | ${ms(percentile(all, 95))} | ` +
        `${ms(p99)} | ${ms(all.at(-1) ?? NaN)} | ${limited} | ${failed} |`,
    );
    if (result.errors > 0) log(`  ${result.errors} socket errors, ${result.timeouts} of them time-outs (30 s)`);
    for (const [kind, samples] of run.errors) log(`  ${kind} errors, e.g.: ${samples.join(' | ')}`);

    log('');
    for (const line of cpuLines(usage, answered, 'request')) log(`  ${line}`);
    for (const p of suite.processes) log(`  peak memory ${p.name}: ${p.peakMemoryMiB()} MiB`);

    log(`\n  overall: ${Math.round(answered / elapsed)} requests/s answered, ${ADMINS} administrators`);
    log(`RESULT ${named('gateway_p99')} ${ms(p99)} ms target <= ${TARGET_P99_MS} ${p99 <= TARGET_P99_MS ? 'met' : 'missed'}`);
    for (const line of lines) log(line);
    log(
      `RESULT ${named('gateway_errors')} ${failed} requests target = 0 ${failed === 0 ? 'met' : 'missed'} (429s counted apart: ${limited})`,
    );
  } finally {
    await suite?.stop();
    await nats.stop();
    if (process.env.BENCH_KEEP_DATABASE === '1') log(`  database kept for inspection: ${database.url}`);
    else await database.drop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
