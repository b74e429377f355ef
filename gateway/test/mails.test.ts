import { actingAs, basic, startSmtpSink, startStack, type SmtpSink, type TestStack } from '@assistants/testing';

let stack: TestStack;
let smtp: SmtpSink;
let home: string;
let n = 0;

async function call(method: string, path: string, body?: unknown, auth?: string) {
  const result = await stack.http(method, path, { body, auth });
  if (result.status >= 300) throw new Error(`${method} ${path}: ${result.status} ${JSON.stringify(result.body)}`);
  return result.body;
}

async function newUser(fields: Record<string, unknown> = {}): Promise<{ id: string; email: string }> {
  const login = `mailer-${++n}`;
  const email = `${login}@example.org`;
  const user = await call('POST', '/v1/users', {
    login,
    lastName: `Last ${n}`,
    firstName: `First ${n}`,
    email,
    organisationId: home,
    ...fields,
  });
  return { id: user.id, email };
}

async function run(action: string, userIds: string[], params: unknown): Promise<any> {
  const created = await stack.http('POST', '/v1/runs', {
    body: { assistant: 'users', action, selection: { type: 'ids', ids: userIds }, params },
  });
  if (created.status !== 202) throw new Error(`run refused: ${created.status} ${JSON.stringify(created.body)}`);
  for (const deadline = Date.now() + 30_000; ;) {
    const found = await call('GET', `/v1/runs/${created.body.id}`);
    if (found.status === 'completed') return found;
    if (Date.now() > deadline) throw new Error(`run still ${found.status}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const template = (context: string, subject: string, html: string, text = '') => ({
  name: `Template ${++n}`,
  context,
  variants: [{ language: 'fr-FR', subject, html, text }],
});

beforeAll(async () => {
  smtp = await startSmtpSink();
  stack = await startStack({ GATEWAY_RUN_BATCH_SIZE: '2', GATEWAY_RUN_POLL_MS: '50' }, {}, { smtpPort: smtp.port });
  home = (await call('POST', '/v1/organisations', { extId: 'MAILS', label: 'Mail home' })).id;
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await smtp?.stop();
});

beforeEach(() => {
  smtp.received.length = 0;
});

describe('mail templates over HTTP', () => {
  it('are created, previewed and refused with the field and line of an unresolvable field', async () => {
    const refused = await stack.http('POST', '/v1/mail-templates', {
      body: template('user', 'Hello', '<p>Hello {{ user.first_name }}</p>\n<p>{{ course.name }}</p>'),
    });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ field: 'variants[0].html', message: 'course.name cannot be used in a user mail (line 2)' });

    const created = await call(
      'POST',
      '/v1/mail-templates',
      template('course_assignment', 'Course {{ course.name }}', '<b>{{ user.first_name }}</b>'),
    );
    expect(created).toMatchObject({ context: 'course_assignment', defaultLanguage: 'fr-FR' });
    const preview = await call('POST', `/v1/mail-templates/${created.id}/preview`, { sample: { 'user.first_name': 'A & B' } });
    expect(preview).toMatchObject({
      subject: 'Course Safety at work',
      html: '<b>A &amp; B</b>',
      fields: ['course.name', 'user.first_name'],
    });
    const listed = await call('GET', '/v1/mail-templates?context=course_assignment');
    expect(listed.items.map((t: { id: string }) => t.id)).toContain(created.id);
    await call('DELETE', `/v1/mail-templates/${created.id}`);
    expect((await stack.http('GET', `/v1/mail-templates/${created.id}`)).status).toBe(404);
  });

  it('are written only by an administrator of the root; failed mails are listed only for one', async () => {
    const login = `scoped-mailer-${++n}`;
    const { id } = await call('POST', '/v1/users', {
      login,
      lastName: 'Scoped',
      firstName: 'S',
      organisationId: home,
      password: 'scoped mailer password',
    });
    const role = await call('POST', '/v1/roles', { name: `Mailer ${n}`, permissions: ['*'] });
    await call('POST', `/v1/users/${id}/roles`, { roleIds: [role.id], organisationId: home });
    const auth = basic(login, 'scoped mailer password');
    expect((await stack.http('POST', '/v1/mail-templates', { body: template('user', 'x', 'x'), auth })).status).toBe(403);
    const existing = await call('POST', '/v1/mail-templates', template('user', 'Kept {{ user.first_name }}', 'kept'));
    expect((await stack.http('PUT', `/v1/mail-templates/${existing.id}`, { body: template('user', 'x', 'x'), auth })).status).toBe(403);
    expect((await stack.http('DELETE', `/v1/mail-templates/${existing.id}`, { auth })).status).toBe(403);
    expect((await call('GET', `/v1/mail-templates/${existing.id}`)).variants[0].subject).toBe('Kept {{ user.first_name }}');
    expect((await stack.http('GET', '/v1/mails/failed', { auth })).status).toBe(403);
    expect((await stack.http('POST', '/v1/mails/retry', { body: { ids: ['3f0c8a52-8a8e-4a57-9c38-2a4f1b0a0b0b'] }, auth })).status).toBe(
      403,
    );
    expect((await stack.http('GET', '/v1/mails/failed')).status).toBe(200);
  });
});

describe('notifying runs', () => {
  it('U7 with notifyTemplateId sends one mail per (user, course) to the right addresses, and a redelivered event sends nothing twice', async () => {
    const { id: templateId } = await call(
      'POST',
      '/v1/mail-templates',
      template(
        'course_assignment',
        'Assigned: {{ course.name }}',
        '<p>{{ user.first_name }}: {{ course.name }} ({{ course.code }}) from {{ course.start_date }}, {{ course.option }}</p>',
      ),
    );
    const users = [await newUser(), await newUser(), await newUser()];
    const courses: { id: string; name: string }[] = [];
    for (const code of [`MAIL-A-${n}`, `MAIL-B-${n}`]) courses.push(await call('POST', '/v1/courses', { code, name: `Course ${code}` }));
    const finished = await run(
      'U7',
      users.map((u) => u.id),
      {
        courseIds: courses.map((c) => c.id),
        notifyTemplateId: templateId,
        startDate: '2027-01-04',
        option: 'mandatory',
      },
    );
    expect(finished.status).toBe('completed');
    await smtp.waitFor(6);
    const got = smtp.received.map((m) => `${m.to.join()} ${m.subject}`).sort();
    const expected = users.flatMap((u) => courses.map((c) => `${u.email} Assigned: ${c.name}`)).sort();
    expect(got).toEqual(expected);
    expect(smtp.received[0]!.html).toMatch(/\(MAIL-[AB]-\d+\) from 2027-01-04, Mandatory/);

    // An event delivered again (here: published again under another message id).
    await stack.assignment.flushEvents();
    const { state } = await stack.assignment.bus.jsm.streams.info('ASSIGNMENT');
    const last = await stack.assignment.bus.jsm.streams.getMessage('ASSIGNMENT', { seq: state.last_seq });
    await stack.assignment.bus.js.publish(last!.subject, last!.data, { msgID: `again-${last!.seq}` });
    await new Promise((r) => setTimeout(r, 1000));
    expect(smtp.received).toHaveLength(6);
  });

  it('U12 with notifyTemplateId sends one curriculum mail per user (not one per course of the curriculum), in its language', async () => {
    const { id: templateId } = await call('POST', '/v1/mail-templates', {
      name: `Path ${++n}`,
      context: 'curriculum_assignment',
      defaultLanguage: 'fr-FR',
      variants: [
        { language: 'fr-FR', subject: 'Parcours {{ curriculum.name }}', text: 'Fin : {{ curriculum.end_date }}' },
        { language: 'es-ES', subject: 'Itinerario {{ curriculum.name }}', text: 'Fin: {{ curriculum.end_date }}' },
      ],
    });
    const users = [await newUser({ language: 'es-ES' }), await newUser()];
    const courses: string[] = [];
    for (const code of [`PATH-A-${n}`, `PATH-B-${n}`]) courses.push((await call('POST', '/v1/courses', { code, name: code })).id);
    const curriculum = await call('POST', '/v1/curricula', { code: `PATH-${n}`, name: `Path ${n}`, courseIds: courses });
    await run(
      'U12',
      users.map((u) => u.id),
      { curriculumIds: [curriculum.id], notifyTemplateId: templateId, endDate: '2027-06-30' },
    );
    await smtp.waitFor(2);
    await new Promise((r) => setTimeout(r, 500));
    expect(smtp.received.map((m) => `${m.to[0]} ${m.subject} ${m.text.trim()}`).sort()).toEqual(
      [`${users[0]!.email} Itinerario Path ${n} Fin: 2027-06-30`, `${users[1]!.email} Parcours Path ${n} Fin : 2027-06-30`].sort(),
    );
  });

  it('a certificate issued with a notify template mails the learner, naming the course', async () => {
    const { id: templateId } = await call(
      'POST',
      '/v1/mail-templates',
      template('course_assignment', 'Certificate: {{ course.name }}', 'x'),
    );
    const user = await newUser();
    const course = await call('POST', '/v1/courses', { code: `CERT-${++n}`, name: `Certified ${n}`, certificateTemplateId: 'cert-v1' });
    await actingAs(stack.assignment.client, stack.fixture.adminId).certificates.issueCertificates({
      batch: { idempotencyKey: `certificate-${n}`, dryRun: false },
      userIds: [user.id],
      courseIds: [course.id],
      notifyTemplateId: templateId,
    });
    await smtp.waitFor(1);
    expect(smtp.received.map((m) => [m.to[0], m.subject])).toEqual([[user.email, `Certificate: Certified ${n}`]]);
  });

  it('refuses a run whose notify template cannot be used for it, before anything is applied', async () => {
    const user = await newUser();
    const course = await call('POST', '/v1/courses', { code: `MAIL-C-${++n}`, name: 'C' });
    const { id: curriculumTemplate } = await call(
      'POST',
      '/v1/mail-templates',
      template('curriculum_assignment', '{{ curriculum.name }}', 'x'),
    );
    for (const [notifyTemplateId, message] of [
      [curriculumTemplate, /curriculum assignment template: it cannot be used for course assignment mails/],
      ['3f0c8a52-8a8e-4a57-9c38-2a4f1b0a0b0b', /no mail template with id/],
    ] as const) {
      const refused = await stack.http('POST', '/v1/runs', {
        body: {
          assistant: 'users',
          action: 'U7',
          selection: { type: 'ids', ids: [user.id] },
          params: { courseIds: [course.id], notifyTemplateId },
        },
      });
      expect(refused.status).toBe(400);
      expect(refused.body.field).toBe('params.notifyTemplateId');
      expect(refused.body.message).toMatch(message);
    }
    expect((await call('GET', `/v1/users/${user.id}/assignments`)).courseAssignments).toEqual([]);
  });

  it('U16 sends an ad-hoc mail to every selected user, and refuses a field a user mail cannot resolve', async () => {
    const users = [await newUser({ language: 'en-EN' }), await newUser()];
    const refused = await stack.http('POST', '/v1/runs', {
      body: {
        assistant: 'users',
        action: 'U16',
        selection: { type: 'ids', ids: [users[0]!.id] },
        params: { subject: 'Hi', html: '{{ course.name }}' },
      },
    });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ field: 'params.html', message: 'course.name cannot be used in a user mail (line 1)' });

    await run(
      'U16',
      users.map((u) => u.id),
      { subject: 'News for {{ user.first_name }}', text: 'Go to {{ platform_url }}' },
    );
    await smtp.waitFor(2);
    expect(smtp.received.map((m) => m.to[0]).sort()).toEqual(users.map((u) => u.email).sort());
    expect(smtp.received[0]!.text).toContain('Go to https://lms.example.test');
  });
});
