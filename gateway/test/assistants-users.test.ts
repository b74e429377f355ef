import { actingAs } from '@assistants/testing';
import { Assistants, lines, subjects, UNKNOWN_ID } from './assistants-support';

/**
 * The user assistant end to end: each action run through POST /v1/runs over real HTTP, on
 * identity, the catalog and the assignment service with a real NATS and PostgreSQL; the
 * state each leaves read back through the API, and the events each run published (by its
 * correlation id). U12, U13 and U15 are in assistants-curricula.test.ts.
 */
const t = Assistants.forFile();

const names = (...things: ({ id: string; login: string } | { id: string; code: string })[]) =>
  Object.fromEntries(things.map((x) => [x.id, 'login' in x ? x.login : x.code]));

describe('identity actions', () => {
  it('U1 sets what it is given, leaves what is "unchanged" or absent, clears with ""', async () => {
    const a = await t.newUser({
      twoFactor: 'never',
      custom1: 'keep',
      custom4: 'old',
      activationDate: '2020-01-01',
      expirationDate: '2030-12-31',
    });
    // b has the values already.
    const b = await t.newUser({ disabled: true, custom3: 'new' });
    const first = await t.users('U1', [a.id, b.id], {
      disabled: 'yes',
      twoFactor: 'unchanged',
      custom3: 'new',
      custom4: '',
      activationDate: '',
    });
    expect(lines(first.results, names(a, b)).sort()).toEqual([`${a.login}: succeeded`, `${b.login}: unchanged ALREADY_SET`]);
    expect(first.run).toMatchObject({ total: 2, done: 2, succeeded: 1, unchanged: 1, failed: 0 });
    expect(await t.user(a.id)).toMatchObject({
      disabled: true,
      twoFactor: 'never',
      custom1: 'keep',
      custom3: 'new',
      custom4: '',
      activationDate: '',
      expirationDate: '2030-12-31',
    });
    const events = await t.eventsOf(first.run, 'IDENTITY');
    expect(events.map((e) => [e.subject, e.data.user.login, e.data.changedFields])).toEqual([
      ['identity.user.updated.v1', a.login, ['disabled', 'activation_date', 'custom3', 'custom4']],
    ]);

    // "unchanged" leaves disabled as it is (yes); "no" sets it back.
    await t.users('U1', [a.id], { disabled: 'unchanged', twoFactor: 'always', expirationDate: '2031-01-31' });
    expect(await t.user(a.id)).toMatchObject({ disabled: true, twoFactor: 'always', expirationDate: '2031-01-31', custom3: 'new' });
    await t.users('U1', [a.id], { disabled: 'no' });
    expect(await t.user(a.id)).toMatchObject({ disabled: false, twoFactor: 'always', expirationDate: '2031-01-31' });
    expect(await t.user(b.id)).toMatchObject({ disabled: true, twoFactor: 'default', custom3: 'new' });

    // Everything "unchanged": nothing to do, refused before anything starts.
    const idle = await t.startRun({
      assistant: 'users',
      action: 'U1',
      selection: { type: 'ids', ids: [a.id] },
      params: { disabled: 'unchanged' },
    });
    expect(idle.status).toBe(400);
    expect(idle.body).toMatchObject({ field: 'params', message: 'choose at least one value to change' });
  });

  it('U2 adds audiences to those a user has', async () => {
    const [north, south, other] = [await t.newAudience(), await t.newAudience(), await t.newAudience()];
    const a = await t.newUser({ audienceIds: [other] });
    const b = await t.newUser({ audienceIds: [north, south] });
    // The selection: a list's members.
    const list = await t.newList([a.id, b.id]);
    const { run, results } = await t.run({
      assistant: 'users',
      action: 'U2',
      selection: { type: 'list', listId: list },
      params: { audienceIds: [north, south] },
    });
    expect(lines(results, names(a, b)).sort()).toEqual([`${a.login}: succeeded`, `${b.login}: unchanged ALREADY_SET`]);
    const audiences = async (id: string) => ((await t.user(id)).audiences as { id: string }[]).map((x) => x.id).sort();
    expect(await audiences(a.id)).toEqual([north, south, other].sort());
    expect(await audiences(b.id)).toEqual([north, south].sort());
    const events = await t.eventsOf(run, 'IDENTITY');
    expect(events.map((e) => [e.subject, e.data.user.login, e.data.changedFields])).toEqual([
      ['identity.user.updated.v1', a.login, ['audiences']],
    ]);
  });

  it('U3 gives roles on one organisation', async () => {
    const organisation = await t.newOrganisation('Roles');
    const role = (await t.post('/v1/roles', { name: t.unique('Reader'), permissions: ['users:read'] })).id;
    const [a, b] = [await t.newUser(), await t.newUser()];
    await t.post(`/v1/users/${b.id}/roles`, { roleIds: [role], organisationId: organisation });
    const { run, results } = await t.users('U3', [a.id, b.id], { roleIds: [role], organisationId: organisation });
    expect(lines(results, names(a, b)).sort()).toEqual([`${a.login}: succeeded`, `${b.login}: unchanged ALREADY_SET`]);
    for (const user of [a, b]) {
      expect((await t.get(`/v1/users/${user.id}/roles`)).items).toEqual([
        expect.objectContaining({ roleId: role, organisationId: organisation, permissions: ['users:read'] }),
      ]);
    }
    expect(subjects(await t.eventsOf(run, 'IDENTITY'))).toEqual(['identity.role.granted.v1']);
    // An organisation that does not exist: refused before anything starts.
    const refused = await t.startRun({
      assistant: 'users',
      action: 'U3',
      selection: { type: 'ids', ids: [a.id] },
      params: { roleIds: [role], organisationId: UNKNOWN_ID },
    });
    expect([refused.status, refused.body.field]).toEqual([400, 'params.organisationId']);
  });

  it('U4 sets the manager and U5 the secondary manager, each leaving the other', async () => {
    const [boss, deputy] = [await t.newUser(), await t.newUser()];
    const a = await t.newUser();
    const b = await t.newUser({ managerId: boss.id });
    const u4 = await t.users('U4', [a.id, b.id, boss.id], { managerId: boss.id });
    expect(lines(u4.results, names(a, b, boss)).sort()).toEqual(
      [`${a.login}: succeeded`, `${b.login}: unchanged ALREADY_SET`, `${boss.login}: failed OWN_MANAGER`].sort(),
    );
    expect(await t.user(a.id)).toMatchObject({ managerId: boss.id, secondaryManagerId: '' });
    expect((await t.user(boss.id)).managerId).toBe('');
    expect((await t.eventsOf(u4.run, 'IDENTITY')).map((e) => [e.data.user.login, e.data.changedFields])).toEqual([
      [a.login, ['manager_id']],
    ]);

    const u5 = await t.users('U5', [a.id], { managerId: deputy.id });
    expect(lines(u5.results)).toEqual([`${a.login}: succeeded`]);
    expect(await t.user(a.id)).toMatchObject({ managerId: boss.id, secondaryManagerId: deputy.id });
  });

  it('U18 saves the selection (a filter minus exclusions, in several batches) as one static list', async () => {
    const token = t.unique('Saved');
    const users = await t.newUsers(7, { lastName: `${token} member` });
    const excluded = users[2];
    const name = t.unique('Saved selection');
    const { run, results } = await t.run({
      assistant: 'users',
      action: 'U18',
      selection: { type: 'filter', filter: { lastName: token }, excludeIds: [excluded.id] },
      params: { name, description: 'kept for later' },
    });
    // Six users in batches of four: two calls, one list.
    expect(run).toMatchObject({ total: 6, succeeded: 6 });
    expect(results.every((r) => r.outcome === 'succeeded')).toBe(true);
    const found = (await t.post('/v1/lists/search', { filter: { name } })).items;
    expect(found).toEqual([expect.objectContaining({ name, description: 'kept for later', type: 'static', memberCount: 6 })]);
    const members = (await t.get(`/v1/lists/${found[0].id}/members?limit=100`)).items.map((u: { login: string }) => u.login).sort();
    expect(members).toEqual(
      users
        .filter((u) => u !== excluded)
        .map((u) => u.login)
        .sort(),
    );
    const entered = (await t.eventsOf(run, 'IDENTITY')).filter((e) => e.subject === 'identity.list-member.entered.v1');
    expect(entered).toHaveLength(6);
    // A dry run says the same and saves nothing.
    const dryName = t.unique('Dry selection');
    const dry = await t.run({
      assistant: 'users',
      action: 'U18',
      selection: { type: 'filter', filter: { lastName: token } },
      params: { name: dryName },
      dryRun: true,
    });
    expect(dry.run).toMatchObject({ dryRun: true, total: 7, succeeded: 7 });
    expect((await t.post('/v1/lists/search', { filter: { name: dryName } })).total).toBe(0);
    expect(await t.eventsOf(dry.run, 'IDENTITY')).toEqual([]);
    // The name is taken now.
    const again = await t.startRun({ assistant: 'users', action: 'U18', selection: { type: 'ids', ids: [excluded.id] }, params: { name } });
    expect([again.status, again.body.field]).toEqual([400, 'params.name']);
  });
});

describe('assignment actions', () => {
  it('U6 makes users tutors of courses for the learners of a list', async () => {
    const [tutor, learner] = [await t.newUser(), await t.newUser()];
    const [c1, c2] = [await t.newCourse(), await t.newCourse()];
    const list = await t.newList([learner.id]);
    const { run, results } = await t.users('U6', [tutor.id], { courseIds: [c1.id, c2.id], listId: list });
    expect(lines(results, names(c1, c2))).toEqual([`${tutor.login} ${c1.code}: succeeded`, `${tutor.login} ${c2.code}: succeeded`]);
    const { tutorships } = await t.assignmentsOf(tutor.id);
    expect(tutorships.map((x: any) => [x.tutorId, x.courseId, x.listId]).sort()).toEqual(
      [
        [tutor.id, c1.id, list],
        [tutor.id, c2.id, list],
      ].sort(),
    );
    const events = await t.eventsOf(run, 'ASSIGNMENT');
    expect(events.map((e) => [e.subject, e.data.tutor.login, e.data.course.code]).sort()).toEqual(
      [
        ['assignment.tutor.assigned.v1', tutor.login, c1.code],
        ['assignment.tutor.assigned.v1', tutor.login, c2.code],
      ].sort(),
    );
    const again = await t.users('U6', [tutor.id], { courseIds: [c1.id], listId: list });
    expect(lines(again.results, names(c1))).toEqual([`${tutor.login} ${c1.code}: unchanged ALREADY_TUTOR`]);
    expect(await t.eventsOf(again.run, 'ASSIGNMENT')).toEqual([]);
  });

  it('U7 assigns courses with every value, reports per user and course, and leaves an existing assignment as it was', async () => {
    const [a, b] = [await t.newUser(), await t.newUser()];
    const [c1, c2] = [await t.newCourse(), await t.newCourse()];
    await t.users('U7', [b.id], { courseIds: [c1.id], startDate: '2026-01-01', option: 'recommended' });
    const params = {
      courseIds: [c1.id, c2.id],
      startDate: '2027-01-04',
      objectiveDate: '2027-03-31',
      endDate: '2027-06-30',
      option: 'mandatory',
      paymentMode: 'by_hour',
      paymentCode: 'PO-7',
      unitCost: '12.5',
      notifyTemplateId: t.template('course-assigned'),
    };
    const { run, results } = await t.users('U7', [a.id, b.id], params);
    expect(lines(results, names(a, b, c1, c2)).sort()).toEqual([
      `${a.login} ${c1.code}: succeeded`,
      `${a.login} ${c2.code}: succeeded`,
      `${b.login} ${c1.code}: unchanged ALREADY_ASSIGNED`,
      `${b.login} ${c2.code}: succeeded`,
    ]);
    expect(run).toMatchObject({ total: 2, done: 2, succeeded: 3, unchanged: 1, failed: 0 });
    const values = {
      startDate: '2027-01-04',
      objectiveDate: '2027-03-31',
      endDate: '2027-06-30',
      option: 'mandatory',
      paymentMode: 'by_hour',
      paymentCode: 'PO-7',
      unitCost: '12.50',
      direct: true,
      curriculumIds: [],
      accessPropertyIds: [],
    };
    const ofA = await t.courseAssignments(a.id);
    expect(ofA.get(c1.id)).toMatchObject(values);
    expect(ofA.get(c2.id)).toMatchObject(values);
    const ofB = await t.courseAssignments(b.id);
    expect(ofB.get(c1.id)).toMatchObject({
      startDate: '2026-01-01',
      endDate: '',
      option: 'recommended',
      paymentMode: 'none',
      unitCost: '',
    });
    expect(ofB.get(c2.id)).toMatchObject(values);

    // One event per new assignment, with the template and what a mail needs.
    const events = await t.eventsOf(run, 'ASSIGNMENT');
    expect(events.map((e) => [e.subject, e.data.learner.login, e.data.course.code, e.data.notifyTemplateId ?? '']).sort()).toEqual(
      [
        ['assignment.course.assigned.v1', a.login, c1.code, t.template('course-assigned')],
        ['assignment.course.assigned.v1', a.login, c2.code, t.template('course-assigned')],
        ['assignment.course.assigned.v1', b.login, c2.code, t.template('course-assigned')],
      ].sort(),
    );
    expect(events[0].data.assignment).toMatchObject({ startDate: '2027-01-04', endDate: '2027-06-30', paymentCode: 'PO-7' });
    expect(events[0].data.course.name).toMatch(/^Course /);
  });

  it('U7 over a filter of many users goes in several batches, each user and course assigned once', async () => {
    const token = t.unique('Crowd');
    const users = await t.newUsers(10, { lastName: `${token} learner` });
    const [c1, c2] = [await t.newCourse(), await t.newCourse()];
    const { run, results } = await t.run({
      assistant: 'users',
      action: 'U7',
      selection: { type: 'filter', filter: { lastName: token } },
      params: { courseIds: [c1.id, c2.id], option: 'recommended' },
    });
    expect(run).toMatchObject({ total: 10, done: 10, succeeded: 20, failed: 0, unchanged: 0 });
    expect(results).toHaveLength(20);
    for (const course of [c1, c2]) {
      const page = await t.get(`/v1/courses/${course.id}/assignments?limit=100`);
      expect(page.total).toBe(10);
      expect(page.items.map((x: { userId: string }) => x.userId).sort()).toEqual(users.map((u) => u.id).sort());
    }
    const events = await t.eventsOf(run, 'ASSIGNMENT');
    expect(new Set(events.map((e) => `${e.data.learner.id}:${e.data.course.id}`)).size).toBe(20);
    expect(events).toHaveLength(20);
    // Ten users in batches of four: three calls, each recorded once by the assignment service.
    const recorded = await t.stack.assignment.db.query('SELECT count(*)::int AS n FROM kit_batches WHERE idempotency_key LIKE $1', [
      `run:${run.id}:%`,
    ]);
    expect(recorded.rows[0].n).toBe(3);
  });

  it('U7 applies the audience rule unless told to ignore audiences; a disabled course is not assigned', async () => {
    const sales = await t.newAudience();
    const seller = await t.newUser({ audienceIds: [sales] });
    const other = await t.newUser();
    const restricted = await t.newCourse({ audienceIds: [sales] });
    const disabled = await t.newCourse({ disabled: true });
    const byRule = await t.users('U7', [seller.id, other.id], { courseIds: [restricted.id, disabled.id] });
    expect(lines(byRule.results, names(seller, other, restricted, disabled)).sort()).toEqual(
      [
        `${other.login} ${disabled.code}: failed COURSE_DISABLED`,
        `${other.login} ${restricted.code}: failed AUDIENCE_MISMATCH`,
        `${seller.login} ${disabled.code}: failed COURSE_DISABLED`,
        `${seller.login} ${restricted.code}: succeeded`,
      ].sort(),
    );
    expect(byRule.run).toMatchObject({ status: 'completed', succeeded: 1, failed: 3 });
    expect([...(await t.courseAssignments(seller.id)).keys()]).toEqual([restricted.id]);
    expect((await t.courseAssignments(other.id)).size).toBe(0);
    const failure = byRule.results.find((r) => r.code === 'AUDIENCE_MISMATCH')!;
    expect(failure.message).toBe(`the user shares none of the audiences of course ${restricted.code}`);

    const ignoring = await t.users('U7', [seller.id, other.id], { courseIds: [restricted.id], ignoreAudiences: true });
    expect(lines(ignoring.results, names(seller, other, restricted)).sort()).toEqual(
      [`${other.login} ${restricted.code}: succeeded`, `${seller.login} ${restricted.code}: unchanged ALREADY_ASSIGNED`].sort(),
    );
    expect([...(await t.courseAssignments(other.id)).keys()]).toEqual([restricted.id]);
    expect((await t.get(`/v1/courses/${restricted.id}/assignments`)).total).toBe(2);
  });

  it('U7 as a dry run says what would happen and changes nothing: no assignment, no event, nothing recorded', async () => {
    const [a, b] = [await t.newUser(), await t.newUser()];
    const course = await t.newCourse();
    await t.users('U7', [b.id], { courseIds: [course.id] });
    const before = await t.get(`/v1/courses/${course.id}/assignments`);
    const { run, results } = await t.users('U7', [a.id, b.id], { courseIds: [course.id], option: 'mandatory' }, { dryRun: true });
    expect(run).toMatchObject({ status: 'completed', dryRun: true, total: 2, succeeded: 1, unchanged: 1, failed: 0 });
    expect(lines(results, names(a, b, course)).sort()).toEqual([
      `${a.login} ${course.code}: succeeded`,
      `${b.login} ${course.code}: unchanged ALREADY_ASSIGNED`,
    ]);
    expect(await t.get(`/v1/courses/${course.id}/assignments`)).toEqual(before);
    expect((await t.courseAssignments(a.id)).size).toBe(0);
    expect((await t.courseAssignments(b.id)).get(course.id).option).toBe('free');
    expect(await t.eventsOf(run, 'ASSIGNMENT')).toEqual([]);
    const recorded = await t.stack.assignment.db.query('SELECT count(*)::int AS n FROM kit_batches WHERE idempotency_key LIKE $1', [
      `run:${run.id}:%`,
    ]);
    expect(recorded.rows[0].n).toBe(0);
  });

  it('U8 changes the values given on existing assignments; "unchanged" and absent fields stay, "" clears', async () => {
    const [a, b] = [await t.newUser(), await t.newUser()];
    const course = await t.newCourse();
    await t.users('U7', [a.id], {
      courseIds: [course.id],
      startDate: '2027-01-01',
      objectiveDate: '2027-02-01',
      endDate: '2027-06-30',
      option: 'mandatory',
      paymentMode: 'by_course',
      paymentCode: 'PO-1',
      unitCost: '99.9',
    });
    const { run, results } = await t.users('U8', [a.id, b.id], {
      courseIds: [course.id],
      endDate: '2027-09-30',
      option: 'unchanged',
      paymentMode: 'unchanged',
      unitCost: '',
      notifyTemplateId: t.template('assignment-changed'),
    });
    expect(lines(results, names(a, b, course)).sort()).toEqual([
      `${a.login} ${course.code}: succeeded`,
      `${b.login} ${course.code}: failed NOT_ASSIGNED`,
    ]);
    expect((await t.courseAssignments(a.id)).get(course.id)).toMatchObject({
      startDate: '2027-01-01',
      objectiveDate: '2027-02-01',
      endDate: '2027-09-30',
      option: 'mandatory',
      paymentMode: 'by_course',
      paymentCode: 'PO-1',
      unitCost: '',
    });
    expect((await t.courseAssignments(b.id)).size).toBe(0);
    const events = await t.eventsOf(run, 'ASSIGNMENT');
    expect(events.map((e) => [e.subject, e.data.learner.login, e.data.changedFields, e.data.notifyTemplateId ?? ''])).toEqual([
      ['assignment.course.updated.v1', a.login, ['end_date', 'unit_cost'], t.template('assignment-changed')],
    ]);

    // The same values again: nothing to do. An option: set. A start after the end it keeps: refused for that assignment.
    const same = await t.users('U8', [a.id], { courseIds: [course.id], endDate: '2027-09-30' });
    expect(lines(same.results, names(course))).toEqual([`${a.login} ${course.code}: unchanged NO_CHANGE`]);
    await t.users('U8', [a.id], { courseIds: [course.id], option: 'recommended', paymentMode: 'none' });
    expect((await t.courseAssignments(a.id)).get(course.id)).toMatchObject({
      option: 'recommended',
      paymentMode: 'none',
      paymentCode: 'PO-1',
    });
    const late = await t.users('U8', [a.id], { courseIds: [course.id], startDate: '2028-01-01' });
    expect(lines(late.results, names(course))).toEqual([`${a.login} ${course.code}: failed INVALID_DATES`]);
    expect((await t.courseAssignments(a.id)).get(course.id).startDate).toBe('2027-01-01');
  });

  it('U10 removes course assignments, and only those named', async () => {
    const [a, b] = [await t.newUser(), await t.newUser()];
    const [c1, c2] = [await t.newCourse(), await t.newCourse()];
    await t.users('U7', [a.id], { courseIds: [c1.id, c2.id] });
    const { run, results } = await t.users('U10', [a.id, b.id], { courseIds: [c1.id], notifyTemplateId: t.template('course-removed') });
    expect(lines(results, names(a, b, c1)).sort()).toEqual([
      `${a.login} ${c1.code}: succeeded`,
      `${b.login} ${c1.code}: failed NOT_ASSIGNED`,
    ]);
    expect([...(await t.courseAssignments(a.id)).keys()]).toEqual([c2.id]);
    // The catalogue course stays.
    expect((await t.course(c1.id)).code).toBe(c1.code);
    const events = await t.eventsOf(run, 'ASSIGNMENT');
    expect(events.map((e) => [e.subject, e.data.learner.login, e.data.course.code, e.data.notifyTemplateId ?? ''])).toEqual([
      ['assignment.course.removed.v1', a.login, c1.code, t.template('course-removed')],
    ]);
  });

  it("U11 issues certificates again with the course's current template", async () => {
    const [a, b] = [await t.newUser(), await t.newUser()];
    const course = await t.newCourse({ certificateTemplateId: 'certificate-v1' });
    // A certificate is issued by what completes a course (the statistics service, later): here, its RPC.
    await actingAs(t.stack.assignment.client, t.stack.fixture.adminId).certificates.issueCertificates({
      batch: { idempotencyKey: t.unique('certificate'), dryRun: false },
      userIds: [a.id],
      courseIds: [course.id],
      notifyTemplateId: '',
    });
    const [issued] = (await t.assignmentsOf(a.id)).certificates;
    expect(issued).toMatchObject({ templateId: 'certificate-v1', reissueCount: 0 });
    await t.call('PATCH', `/v1/courses/${course.id}`, { certificateTemplateId: 'certificate-v2' });

    const { run, results } = await t.users('U11', [a.id, b.id], { courseIds: [course.id], notifyTemplateId: t.template('certificate') });
    expect(lines(results, names(a, b, course)).sort()).toEqual([
      `${a.login} ${course.code}: succeeded`,
      `${b.login} ${course.code}: unchanged NO_CERTIFICATE`,
    ]);
    const [reissued] = (await t.assignmentsOf(a.id)).certificates;
    expect(reissued).toMatchObject({ courseId: course.id, templateId: 'certificate-v2', reissueCount: 1 });
    expect(Date.parse(reissued.issuedAt)).toBeGreaterThan(Date.parse(issued.issuedAt));
    expect((await t.assignmentsOf(b.id)).certificates).toEqual([]);
    const events = await t.eventsOf(run, 'ASSIGNMENT');
    expect(
      events.map((e) => [e.subject, e.data.learner.login, e.data.reissued, e.data.previousTemplateId, e.data.notifyTemplateId ?? '']),
    ).toEqual([['assignment.certificate.issued.v1', a.login, true, 'certificate-v1', t.template('certificate')]]);

    // A course without a certificate template is a parameter at fault.
    const bare = await t.newCourse();
    const refused = await t.startRun({
      assistant: 'users',
      action: 'U11',
      selection: { type: 'ids', ids: [a.id] },
      params: { courseIds: [bare.id] },
    });
    expect([refused.status, refused.body.field]).toEqual([400, 'params.courseIds[0]']);
  });
});

describe('a scoped administrator', () => {
  it('runs U7 over a filter: users outside its sub-tree are never in the run and never assigned', async () => {
    const region = await t.newOrganisation('Region');
    const branch = await t.newOrganisation('Branch', region);
    const elsewhere = await t.newOrganisation('Elsewhere');
    const admin = await t.scopedAdministrator(branch, ['users:read', 'assignments:write', 'assignments:read', 'catalog:read']);
    const token = t.unique('Scoped');
    const inside = await t.newUsers(3, { lastName: `${token} in`, organisationId: branch });
    const outside = [
      ...(await t.newUsers(2, { lastName: `${token} out`, organisationId: elsewhere })),
      await t.newUser({ lastName: `${token} above`, organisationId: region }),
    ];
    const course = await t.newCourse();

    const { run, results } = await t.run(
      { assistant: 'users', action: 'U7', selection: { type: 'filter', filter: { lastName: token } }, params: { courseIds: [course.id] } },
      admin.auth,
    );
    expect(run).toMatchObject({ actorId: admin.id, total: 3, succeeded: 3, failed: 0 });
    expect(results.map((r) => r.itemId).sort()).toEqual(inside.map((u) => u.id).sort());
    const assigned = (await t.get(`/v1/courses/${course.id}/assignments`)).items.map((x: { userId: string }) => x.userId).sort();
    expect(assigned).toEqual(inside.map((u) => u.id).sort());
    for (const user of outside) expect((await t.courseAssignments(user.id)).size).toBe(0);
    const events = await t.eventsOf(run, 'ASSIGNMENT');
    expect(events.map((e) => e.data.learner.id).sort()).toEqual(inside.map((u) => u.id).sort());

    // Ids outside its scope are left out of the selection as well.
    const mixed = await t.run(
      {
        assistant: 'users',
        action: 'U7',
        selection: { type: 'ids', ids: [inside[0].id, ...outside.map((u) => u.id)] },
        params: { courseIds: [course.id], ignoreAudiences: true },
      },
      admin.auth,
    );
    expect(mixed.run.total).toBe(1);
    expect(lines(mixed.results, names(course))).toEqual([`${inside[0].login} ${course.code}: unchanged ALREADY_ASSIGNED`]);
    for (const user of outside) expect((await t.courseAssignments(user.id)).size).toBe(0);
  });
});

describe('validation, before anything starts', () => {
  it('refuses U7 with the end before the start, an unknown course, and names the field', async () => {
    const user = await t.newUser();
    const course = await t.newCourse();
    const runsBefore = (await t.get('/v1/runs?limit=1')).total;
    const refusals: [object, string, RegExp][] = [
      [{ courseIds: [course.id], startDate: '2027-03-01', endDate: '2027-02-28' }, 'params.endDate', /endDate is before startDate/],
      [{ courseIds: [UNKNOWN_ID] }, 'params.courseIds[0]', /./],
      [{ courseIds: [course.id, UNKNOWN_ID] }, 'params.courseIds[1]', /./],
      [{ courseIds: [course.id], startDate: '2027-02-30' }, 'params.startDate', /./],
      [{ courseIds: [course.id], option: 'compulsory' }, 'params.option', /./],
      [{ courseIds: [] }, 'params.courseIds', /./],
    ];
    for (const [params, field, message] of refusals) {
      const refused = await t.startRun({ assistant: 'users', action: 'U7', selection: { type: 'ids', ids: [user.id] }, params });
      expect([JSON.stringify(params), refused.status, refused.body.field]).toEqual([JSON.stringify(params), 400, field]);
      expect(refused.body.message).toMatch(message);
    }
    expect((await t.get('/v1/runs?limit=1')).total).toBe(runsBefore);
    expect((await t.courseAssignments(user.id)).size).toBe(0);
  });
});
