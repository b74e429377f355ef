import { randomUUID } from 'node:crypto';
import { envelope, publish } from '@assistants/kit';
import { Outcome, type BatchResult } from '@assistants/proto/gen/batch/v1/batch';
import { TemplateContext, type TemplateVariant } from '@assistants/proto/gen/notification/v1/templates';
import {
  actingAs,
  createTestDatabase,
  freePort,
  startIdentityFixture,
  startNotification,
  startSmtpSink,
  type IdentityFixture,
  type NotificationClient,
  type SmtpSink,
  type TestNotification,
  refusal,
} from '@assistants/testing';

const ROOT = '00000000-0000-4000-8000-000000000001';

let fixture: IdentityFixture;
let notification: TestNotification;
let smtp: SmtpSink;
let api: NotificationClient;
let north: string;
let south: string;
let manager: string;

const key = () => ({ idempotencyKey: `test:${randomUUID()}`, dryRun: false });
const outcomes = (result: BatchResult | undefined) =>
  (result?.results ?? []).map((r) => [r.itemId, Outcome[r.outcome].replace('OUTCOME_', ''), r.code]);

let n = 0;
async function newUser(fields: Record<string, string> = {}): Promise<{ id: string; email: string }> {
  const login = `mail-user-${++n}-${randomUUID().slice(0, 4)}`;
  const email = `${login}@example.org`;
  const { user } = await fixture.api.users.createUser({
    fields: { login, firstName: 'Camille', lastName: `Last${n}`, email, language: 'fr-FR', title: 'Mme', organisationId: north, ...fields },
    audienceIds: [],
  });
  return { id: user!.id, email };
}

const variant = (language: string, subject: string, html: string, text: string): TemplateVariant => ({ language, subject, html, text });

async function userTemplate(): Promise<string> {
  const { template } = await api.templates.createTemplate({
    template: {
      name: `Hello ${randomUUID().slice(0, 4)}`,
      context: TemplateContext.TEMPLATE_CONTEXT_USER,
      defaultLanguage: 'en-EN',
      variants: [
        variant(
          'en-EN',
          'Hello {{ user.first_name }}',
          '<p>Hello {{ user.first_name }} {{ user.last_name }} ({{ user.organisation }}, manager {{ user.manager }})</p><a href="{{ platform_url }}">go</a>',
          'Hello {{ user.first_name }}',
        ),
        variant(
          'fr-FR',
          'Bonjour {{ user.first_name }}',
          '<p>Bonjour {{ user.first_name }}</p>',
          'Bonjour {{ user.first_name }} {{ user.login }}',
        ),
      ],
    },
  });
  return template!.id;
}

beforeAll(async () => {
  fixture = await startIdentityFixture('notification_mails');
  smtp = await startSmtpSink();
  notification = await startNotification({
    nats: fixture.nats,
    pg: fixture.pg,
    identityAddress: fixture.identity.address,
    smtpPort: smtp.port,
  });
  api = actingAs(notification.client, fixture.adminId);
  for (const name of ['north', 'south']) {
    const { organisation } = await fixture.api.organisations.createOrganisation({
      fields: { extId: `${name}-mails`, label: name.toUpperCase() },
    });
    if (name === 'north') north = organisation!.id;
    else south = organisation!.id;
  }
  manager = (await newUser({ firstName: 'Dominique', lastName: 'Durand' })).id;
});

afterAll(async () => {
  await notification?.stop();
  await smtp?.stop();
  await fixture?.stop();
});

beforeEach(() => {
  smtp.received.length = 0;
  smtp.refuseWith(undefined);
});

describe('templates', () => {
  it('are saved, listed, previewed with sample data, changed and deleted', async () => {
    const id = await userTemplate();
    const { template } = await api.templates.getTemplate({ id });
    expect(template!.variants.map((v) => v.language)).toEqual(['en-EN', 'fr-FR']);
    const listed = await api.templates.listTemplates({ context: TemplateContext.TEMPLATE_CONTEXT_USER });
    expect(listed.templates.map((t) => t.id)).toContain(id);

    const preview = await api.templates.previewTemplate({ templateId: id, language: 'fr-FR', sample: { 'user.first_name': '<Zoé>' } });
    expect(preview.subject).toBe('Bonjour <Zoé>');
    expect(preview.html).toBe('<p>Bonjour &lt;Zoé&gt;</p>');
    expect(preview.text).toBe('Bonjour <Zoé> cmartin');
    expect(preview.fields).toEqual(['user.first_name', 'user.login']);

    const changed = await api.templates.updateTemplate({
      id,
      template: { ...template!, variants: [variant('en-EN', 'Hi', '', 'Hi {{ user.email }}')], defaultLanguage: 'en-EN' },
    });
    expect(changed.template!.variants).toHaveLength(1);
    await api.templates.deleteTemplate({ id });
    expect((await refusal(api.templates.getTemplate({ id }))).code).toBe('NOT_FOUND');
  });

  it('refuses a field the context cannot resolve, an unknown field and a syntax error, naming where', async () => {
    const save = (html: string, context = TemplateContext.TEMPLATE_CONTEXT_USER) =>
      refusal(
        api.templates.createTemplate({
          template: {
            name: 'Bad',
            context,
            defaultLanguage: 'fr-FR',
            variants: [variant('fr-FR', 'Hi', 'ok', ''), variant('en-EN', 'Hi', html, '')],
          },
        }),
      );
    expect(await save('<p>Hello</p>\n\n{{ course.name }}')).toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'variants[1].html',
      message: 'course.name cannot be used in a user mail (line 3)',
    });
    expect(await save('{{ password }}')).toMatchObject({
      field: 'variants[1].html',
      message: 'password cannot be used in a user mail (line 1)',
    });
    expect(await save('{{ user.shoe_size }}')).toMatchObject({
      field: 'variants[1].html',
      message: expect.stringMatching(/^unknown field user.shoe_size \(line 1\)/),
    });
    expect(await save('{% if user.login %}')).toMatchObject({
      field: 'variants[1].html',
      message: expect.stringMatching(/^syntax error: .*not closed/),
    });
    // The same course field is fine in a course assignment mail.
    const ok = await api.templates.createTemplate({
      template: {
        name: 'Course',
        context: TemplateContext.TEMPLATE_CONTEXT_COURSE_ASSIGNMENT,
        defaultLanguage: 'fr-FR',
        variants: [variant('fr-FR', '{{ course.name }}', '{{ course.name }} {{ course.start_date }}', '')],
      },
    });
    expect(ok.template!.id).toBeTruthy();
    // A preview of an unsaved template is checked the same way.
    expect(
      await refusal(
        api.templates.previewTemplate({
          templateId: '',
          language: '',
          sample: {},
          template: {
            name: 'x',
            context: TemplateContext.TEMPLATE_CONTEXT_USER,
            defaultLanguage: 'fr-FR',
            variants: [variant('fr-FR', '{{ course.name }}', 'x', '')],
          },
        }),
      ),
    ).toMatchObject({ field: 'variants[0].subject', message: 'course.name cannot be used in a user mail (line 1)' });
  });

  it('are changed only with mail-templates:write on the root', async () => {
    const { user } = await fixture.api.users.createUser({
      fields: { login: `scoped-${randomUUID().slice(0, 6)}`, lastName: 'S', firstName: 'F', organisationId: ROOT },
      audienceIds: [],
    });
    const { role } = await fixture.api.roles.createRole({ name: `all-${randomUUID().slice(0, 6)}`, description: '', permissions: ['*'] });
    await fixture.api.roles.grantRoles({ userIds: [user!.id], roleIds: [role!.id], organisationId: north });
    const scoped = actingAs(notification.client, user!.id);
    const refused = await refusal(
      scoped.templates.createTemplate({
        template: {
          name: 'x',
          context: TemplateContext.TEMPLATE_CONTEXT_USER,
          defaultLanguage: 'fr-FR',
          variants: [variant('fr-FR', 'x', 'x', '')],
        },
      }),
    );
    expect(refused.code).toBe('PERMISSION_DENIED');
    expect(
      (await scoped.templates.listTemplates({ context: TemplateContext.TEMPLATE_CONTEXT_UNSPECIFIED })).templates.length,
    ).toBeGreaterThan(0);
  });
});

describe('U16: SendMails', () => {
  it('sends one mail per user in the language of each, with its fields, HTML-escaped in the HTML part', async () => {
    const templateId = await userTemplate();
    const fr = await newUser({ firstName: '<b>Zoé & co</b>', managerId: manager } as never);
    const en = await newUser({ language: 'en-EN', firstName: 'Sam', managerId: manager } as never);
    const batch = key();
    const { result } = await api.mails.sendMails({ batch, userIds: [fr.id, en.id], templateId });
    expect(outcomes(result)).toEqual([
      [fr.id, 'SUCCEEDED', ''],
      [en.id, 'SUCCEEDED', ''],
    ]);
    await smtp.waitFor(2);
    const byTo = Object.fromEntries(smtp.received.map((m) => [m.to[0], m]));
    expect(byTo[fr.email]!.subject).toBe('Bonjour <b>Zoé & co</b>');
    expect(byTo[fr.email]!.html).toContain('<p>Bonjour &lt;b&gt;Zoé &amp; co&lt;/b&gt;</p>');
    expect(byTo[fr.email]!.text).toContain('Bonjour <b>Zoé & co</b> mail-user-');
    expect(byTo[en.email]!.subject).toBe('Hello Sam');
    expect(byTo[en.email]!.html).toContain('(NORTH, manager Dominique Durand)');
    expect(byTo[en.email]!.html).toContain('href="https://lms.example.test"');
    expect(byTo[en.email]!.messageId).toMatch(/^<[0-9a-f-]{36}@assistants\.local>$/);

    // The same batch again (a run resuming): nothing more is sent.
    await api.mails.sendMails({ batch, userIds: [fr.id, en.id], templateId });
    await new Promise((r) => setTimeout(r, 500));
    expect(smtp.received).toHaveLength(2);
  });

  it('refuses an unresolvable field in the edited content before anything is sent', async () => {
    const user = await newUser();
    const refused = await refusal(
      api.mails.sendMails({
        batch: key(),
        userIds: [user.id],
        templateId: '',
        content: { subject: 'Hi', html: '<p>{{ course.name }}</p>', text: '' },
      }),
    );
    expect(refused).toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'content.html',
      message: 'course.name cannot be used in a user mail (line 1)',
    });
    // A run's validation (no items, dry run) gets the same answer.
    expect(
      await refusal(
        api.mails.sendMails({
          batch: { idempotencyKey: '', dryRun: true },
          userIds: [],
          templateId: '',
          content: { subject: '{{ password }}', html: '', text: 'x' },
        }),
      ),
    ).toMatchObject({ field: 'content.subject' });
    const { rows } = await notification.db.query('SELECT count(*)::int AS n FROM mails WHERE recipient_id = $1', [user.id]);
    expect(rows[0]!.n).toBe(0);
  });

  it('refuses users outside the acting administrator’s scope (OUT_OF_SCOPE)', async () => {
    const { user } = await fixture.api.users.createUser({
      fields: { login: `south-admin-${randomUUID().slice(0, 6)}`, lastName: 'S', firstName: 'F', organisationId: ROOT },
      audienceIds: [],
    });
    const { role } = await fixture.api.roles.createRole({
      name: `send-${randomUUID().slice(0, 6)}`,
      description: '',
      permissions: ['mails:send'],
    });
    await fixture.api.roles.grantRoles({ userIds: [user!.id], roleIds: [role!.id], organisationId: south });
    const inNorth = await newUser();
    const inSouth = await newUser({ organisationId: south });
    const { result } = await actingAs(notification.client, user!.id).mails.sendMails({
      batch: key(),
      userIds: [inNorth.id, inSouth.id],
      templateId: '',
      content: { subject: 'Hi {{ user.first_name }}', html: '', text: 'Hello' },
    });
    expect(outcomes(result)).toEqual([
      [inNorth.id, 'FAILED', 'OUT_OF_SCOPE'],
      [inSouth.id, 'SUCCEEDED', ''],
    ]);
    await smtp.waitFor(1);
    expect(smtp.received.map((m) => m.to[0])).toEqual([inSouth.email]);
  });
});

describe('delivery', () => {
  it('retries while the server refuses (4xx) and delivers every mail later', async () => {
    smtp.refuseWith(() => 451);
    const users = await Promise.all([newUser(), newUser(), newUser()]);
    await api.mails.sendMails({
      batch: key(),
      userIds: users.map((u) => u.id),
      templateId: '',
      content: { subject: 'Later', html: '', text: 'x' },
    });
    await new Promise((r) => setTimeout(r, 1000));
    expect(smtp.received).toHaveLength(0);
    const { rows } = await notification.db.query<{ attempts: number }>(
      `SELECT attempts FROM mails WHERE recipient_id = ANY($1) AND status = 'queued'`,
      [users.map((u) => u.id)],
    );
    expect(rows).toHaveLength(3);
    expect(Math.min(...rows.map((r) => r.attempts))).toBeGreaterThan(1);
    smtp.refuseWith(undefined);
    await smtp.waitFor(3);
    expect(smtp.received.map((m) => m.to[0]).sort()).toEqual(users.map((u) => u.email).sort());
  });

  it('retries while the server is unreachable, and delivers once it is up', async () => {
    const port = await freePort();
    // Its own database: the other instance must not take (and send) its mail.
    const db = await createTestDatabase('notification_down');
    const second = await startNotification({
      nats: fixture.nats,
      pg: db,
      identityAddress: fixture.identity.address,
      smtpPort: port,
    });
    const late = await newUser();
    try {
      await actingAs(second.client, fixture.adminId).mails.sendMails({
        batch: key(),
        userIds: [late.id],
        templateId: '',
        content: { subject: 'Down', html: '', text: 'x' },
      });
      const queued = async () =>
        (
          await second.db.query<{ last_error: string }>(`SELECT last_error FROM mails WHERE recipient_id = $1 AND status = 'queued'`, [
            late.id,
          ])
        ).rows[0]?.last_error ?? '';
      for (let i = 0; i < 50 && !(await queued()); i++) await new Promise((r) => setTimeout(r, 100));
      expect(await queued()).toMatch(/ECONNREFUSED|ESOCKET|ECONNECTION/);
      const up = await startSmtpSink({ port });
      try {
        await up.waitFor(1);
        expect(up.received[0]!.to).toEqual([late.email]);
      } finally {
        await up.stop();
      }
    } finally {
      await second.stop();
      await db.drop();
    }
  });

  it('lists a mail refused for good (5xx) with the reason, and sends it when retried', async () => {
    const user = await newUser();
    smtp.refuseWith((to) => (to.includes(user.email) ? 550 : undefined));
    await api.mails.sendMails({ batch: key(), userIds: [user.id], templateId: '', content: { subject: 'Refused', html: '', text: 'x' } });
    const failed = await (async () => {
      for (let i = 0; i < 100; i++) {
        const { mails } = await api.mails.listFailedMails({});
        const mine = mails.find((m) => m.recipientId === user.id);
        if (mine) return mine;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error('not listed as failed');
    })();
    expect(failed).toMatchObject({ to: user.email, attempts: 1, reason: expect.stringContaining('550') });
    smtp.refuseWith(undefined);
    const { retried } = await api.mails.retryMails({ ids: [failed.id] });
    expect(retried).toEqual([failed.id]);
    await smtp.waitFor(1);
    expect(smtp.received[0]!.to).toEqual([user.email]);
    expect((await api.mails.listFailedMails({})).mails.map((m) => m.id)).not.toContain(failed.id);
  });
});

describe('assignment events', () => {
  it('queue one mail per event and learner: an event delivered again, even once the inbox forgot it, sends nothing twice', async () => {
    const { template } = await api.templates.createTemplate({
      template: {
        name: 'Assigned',
        context: TemplateContext.TEMPLATE_CONTEXT_COURSE_ASSIGNMENT,
        defaultLanguage: 'fr-FR',
        variants: [variant('fr-FR', 'Cours {{ course.name }}', '', 'Du {{ course.start_date }} au {{ course.end_date }}.')],
      },
    });
    const learner = await newUser();
    // As the assignment service publishes it; absent JSON fields (end date, option) are "".
    const event = envelope('assignment.course.assigned.v1', {
      assignment: { userId: learner.id, courseId: randomUUID(), startDate: '2027-02-01', option: 'ASSIGNMENT_OPTION_FREE' },
      learner: { id: learner.id, login: 'l', firstName: 'Camille', email: learner.email, language: 'fr-FR' },
      course: { id: randomUUID(), code: 'EVT-1', name: 'Evented' },
      notifyTemplateId: template!.id,
    });
    await publish(notification.bus, event);
    await smtp.waitFor(1);
    expect([smtp.received[0]!.to[0], smtp.received[0]!.subject, smtp.received[0]!.text.trim()]).toEqual([
      learner.email,
      'Cours Evented',
      'Du 2027-02-01 au .',
    ]);
    // The consumer's inbox forgets handled events after a while; the mail's unique key does not.
    await notification.db.query('DELETE FROM kit_inbox WHERE event_id = $1', [event.id]);
    await notification.bus.js.publish(event.subject, JSON.stringify(event), { msgID: `again-${event.id}` });
    // Handled again (claimed in the inbox anew)...
    for (let i = 0; i < 100; i++) {
      const again = await notification.db.query('SELECT 1 FROM kit_inbox WHERE event_id = $1', [event.id]);
      if (again.rowCount) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await notification.db.query('SELECT 1 FROM kit_inbox WHERE event_id = $1', [event.id])).rowCount).toBe(1);
    // ...and still one mail.
    await new Promise((r) => setTimeout(r, 500));
    expect(smtp.received).toHaveLength(1);
    const { rows } = await notification.db.query('SELECT count(*)::int AS n FROM mails WHERE source = $1', [`event:${event.id}`]);
    expect(rows[0]!.n).toBe(1);
  });
});

describe('welcome mail', () => {
  it('sends the generated password, which is never stored in clear and is wiped once sent', async () => {
    const { template } = await api.templates.createTemplate({
      template: {
        name: 'Welcome',
        context: TemplateContext.TEMPLATE_CONTEXT_WELCOME,
        defaultLanguage: 'fr-FR',
        variants: [
          variant('fr-FR', 'Bienvenue {{ user.first_name }}', '<p>{{ user.login }} / {{ password }}</p>', 'Mot de passe : {{ password }}'),
        ],
      },
    });
    const user = await newUser();
    const password = 'Gen&<Pass>-' + randomUUID().slice(0, 8);
    const request = { idempotencyKey: `import:${randomUUID()}`, userId: user.id, password, templateId: template!.id };
    smtp.refuseWith(() => 451);
    const first = await api.mails.sendWelcomeMail(request);
    expect(first.queued).toBe(true);
    const stored = await notification.db.query(`SELECT * FROM mails WHERE id = $1`, [first.mailId]);
    expect(JSON.stringify(stored.rows[0])).not.toContain(password.slice(0, 12));
    expect(stored.rows[0]!.secret).toBeInstanceOf(Buffer);
    // Asked again with the same key: the same mail, not a second one.
    expect(await api.mails.sendWelcomeMail(request)).toEqual({ mailId: first.mailId, queued: false });
    smtp.refuseWith(undefined);
    await smtp.waitFor(1);
    expect(smtp.received[0]!.text).toContain(`Mot de passe : ${password}`);
    expect(smtp.received[0]!.html).toContain(password.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;'));
    const after = await notification.db.query(`SELECT secret, status FROM mails WHERE id = $1`, [first.mailId]);
    await new Promise((r) => setTimeout(r, 200));
    const wiped = await notification.db.query(`SELECT secret, status FROM mails WHERE id = $1`, [first.mailId]);
    expect(wiped.rows[0]).toEqual({ secret: null, status: 'sent' });
    expect(after.rows).toHaveLength(1);
  });

  it('refuses a template of another context', async () => {
    const { template } = await api.templates.createTemplate({
      template: {
        name: 'C',
        context: TemplateContext.TEMPLATE_CONTEXT_COURSE_ASSIGNMENT,
        defaultLanguage: 'fr-FR',
        variants: [variant('fr-FR', 'x', 'x', '')],
      },
    });
    const templateId = template!.id;
    const user = await newUser();
    expect(await refusal(api.mails.sendWelcomeMail({ idempotencyKey: 'k', userId: user.id, password: 'p', templateId }))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'templateId',
    });
  });
});
