import { Outcome } from '@assistants/proto/gen/batch/v1/batch';
import { actingAs, basic, startStack, type TestStack } from '@assistants/testing';
import { assignmentActions } from '../src/actions/assignment';
import type { Upstreams } from '../src/upstreams';

/** The assignment service through the API: the actions U6-U8, U10-U13, U15, C5-C7 and P4 as
 * the run engine calls them (one batch, on behalf of the run's creator), their validation by
 * a dry run of no items, and the routes that show what they left. */
let stack: TestStack;
let upstreams: Upstreams;
let scopedAuth: string;
let north: string;
let south: string;
let keys = 0;

const UNKNOWN_ID = '3f0c8a52-8a8e-4a57-9c38-2a4f1b0a0b0b';
const batch = (dryRun = false) => ({ idempotencyKey: dryRun ? '' : `assignment-test:${++keys}`, dryRun });
const action = (id: string) => assignmentActions.find((a) => a.id === id)!;

const post = async (path: string, body: object) => {
  const result = await stack.http('POST', path, { body });
  if (result.status >= 300) throw new Error(`${path}: ${result.status} ${JSON.stringify(result.body)}`);
  return result.body;
};

let users = 0;
const newUser = async (organisationId = north) =>
  (await post('/v1/users', { login: `learner-${++users}`, lastName: 'Learner', firstName: `N${users}`, organisationId })).id as string;
let courses = 0;
const newCourse = async (fields: object = {}) =>
  (await post('/v1/courses', { code: `GW-${++courses}`, name: `Course ${courses}`, ...fields })).id as string;

/** The outcomes of one batch of an action, as words. */
async function run(id: string, itemIds: string[], params: object) {
  const result = await action(id).apply(upstreams, itemIds, params as never, batch());
  return result.results.map((r) => `${Outcome[r.outcome].replace('OUTCOME_', '')}${r.code ? ` ${r.code}` : ''}`);
}

/** What the run engine gets back when it validates a run: the refusal of a dry run of no items. */
const validation = (id: string, params: object) =>
  action(id)
    .apply(upstreams, [], params as never, batch(true))
    .then(
      () => undefined,
      (err: { code?: string; field?: string }) => ({ code: err.code, field: err.field }),
    );

beforeAll(async () => {
  stack = await startStack();
  north = (await post('/v1/organisations', { extId: 'NORTH', label: 'North' })).id;
  south = (await post('/v1/organisations', { extId: 'SOUTH', label: 'South' })).id;
  const everything = (await post('/v1/roles', { name: 'Everything', permissions: ['*'] })).id;
  const scoped = await post('/v1/users', {
    login: 'north-admin',
    lastName: 'Admin',
    firstName: 'N',
    organisationId: north,
    password: 'north admin password',
  });
  await post(`/v1/users/${scoped.id}/roles`, { roleIds: [everything], organisationId: north });
  scopedAuth = basic('north-admin', 'north admin password');
  // As the run engine calls them: on behalf of the administrator who started the run.
  upstreams = {
    identity: stack.fixture.api,
    catalog: actingAs(stack.catalog.client, stack.fixture.adminId),
    assignment: actingAs(stack.assignment.client, stack.fixture.adminId),
    notification: actingAs(stack.notification.client, stack.fixture.adminId),
    statistics: actingAs(stack.statistics.client, stack.fixture.adminId),
  };
});

afterAll(async () => {
  await stack?.stop();
});

it('declares the assignment actions of the three assistants', () => {
  expect(assignmentActions.map((a) => [a.id, a.assistant])).toEqual([
    ['U6', 'users'],
    ['U7', 'users'],
    ['U8', 'users'],
    ['U10', 'users'],
    ['U11', 'users'],
    ['U12', 'users'],
    ['U13', 'users'],
    ['U15', 'users'],
    ['C5', 'courses'],
    ['C6', 'courses'],
    ['C7', 'courses'],
    ['P4', 'curricula'],
  ]);
  const properties = (id: string) => (action(id).params as unknown as { properties: Record<string, { enum?: string[] }> }).properties;
  expect(Object.keys(properties('U7'))).toEqual([
    'courseIds',
    'notifyTemplateId',
    'ignoreAudiences',
    'startDate',
    'objectiveDate',
    'endDate',
    'option',
    'paymentMode',
    'paymentCode',
    'unitCost',
  ]);
  expect(properties('U8').option.enum).toEqual(['unchanged', 'free', 'recommended', 'mandatory']);
  expect(properties('U8').paymentMode.enum).toEqual(['unchanged', 'none', 'by_course', 'by_hour', 'not_billed', 'prepaid_account']);
  expect(properties('C5').datesMode.enum).toEqual(['none', 'fixed', 'relative']);
});

it('applies each action and shows the state through the routes', async () => {
  const [ann, bob] = [await newUser(), await newUser()];
  const [a, b] = [await newCourse({ certificateTemplateId: 'cert-1' }), await newCourse()];
  const curriculum = (await post('/v1/curricula', { code: 'GW-P', name: 'Path', courseIds: [a, b] })).id as string;
  const list = (await post('/v1/lists', { name: 'Welders', type: 'static', memberIds: [bob] })).id as string;

  expect(
    await run('U7', [ann], {
      courseIds: [a],
      startDate: '2027-01-01',
      endDate: '2027-06-30',
      option: 'mandatory',
      paymentMode: 'by_course',
      unitCost: '99.9',
      notifyTemplateId: 'tpl',
    }),
  ).toEqual(['SUCCEEDED']);
  expect(await run('U8', [ann], { courseIds: [a], endDate: '2027-07-31', option: 'unchanged', paymentMode: 'unchanged' })).toEqual([
    'SUCCEEDED',
  ]);
  const seen = await stack.http('GET', `/v1/users/${ann}/assignments`);
  expect(seen.status).toBe(200);
  expect(seen.body.courseAssignments).toEqual([
    expect.objectContaining({
      courseId: a,
      startDate: '2027-01-01',
      endDate: '2027-07-31',
      option: 'mandatory',
      paymentMode: 'by_course',
      unitCost: '99.90',
      direct: true,
    }),
  ]);

  // Issued by what completes a course (the statistics service, later).
  await upstreams.assignment.certificates.issueCertificates({
    batch: batch(),
    userIds: [ann],
    courseIds: [a],
    notifyTemplateId: '',
  });
  expect(await run('U11', [ann], { courseIds: [a] })).toEqual(['SUCCEEDED']);
  expect(await run('U10', [ann], { courseIds: [a] })).toEqual(['SUCCEEDED']);
  expect(
    await run('U12', [ann], { curriculumIds: [curriculum], carryDatesToCourses: true, startDate: '2027-02-01', option: 'recommended' }),
  ).toEqual(['SUCCEEDED']);
  expect(await run('U13', [ann], { curriculumIds: [curriculum], carryDatesToCourses: true, endDate: '2027-12-31' })).toEqual(['SUCCEEDED']);
  const afterCurriculum = (await stack.http('GET', `/v1/users/${ann}/assignments`)).body;
  expect(afterCurriculum.curriculumAssignments).toEqual([
    expect.objectContaining({ curriculumId: curriculum, startDate: '2027-02-01', endDate: '2027-12-31', option: 'recommended' }),
  ]);
  expect(afterCurriculum.courseAssignments.map((c: { endDate: string; option: string }) => [c.endDate, c.option])).toEqual([
    ['2027-12-31', 'recommended'],
    ['2027-12-31', 'recommended'],
  ]);
  expect(afterCurriculum.certificates).toEqual([expect.objectContaining({ courseId: a, templateId: 'cert-1', reissueCount: 1 })]);
  expect(await run('U15', [ann], { curriculumIds: [curriculum], removeCourses: true })).toEqual(['SUCCEEDED']);
  expect((await stack.http('GET', `/v1/users/${ann}/assignments`)).body.courseAssignments).toEqual([]);
  expect(await run('U6', [ann], { courseIds: [a], listId: list })).toEqual(['SUCCEEDED']);

  expect(await run('C7', [a, b], { userIds: [ann, bob], option: 'free', notifyTemplateId: 'tpl' })).toEqual([
    'SUCCEEDED',
    'SUCCEEDED',
    'SUCCEEDED',
    'SUCCEEDED',
  ]);
  expect(await run('C6', [b], { userIds: [ann], paymentCode: 'PO-1' })).toEqual(['SUCCEEDED']);
  const page = await stack.http('GET', `/v1/courses/${b}/assignments?limit=1`);
  expect(page.body).toMatchObject({ total: 2, items: [expect.objectContaining({ courseId: b })] });
  expect((await stack.http('GET', `/v1/courses/${b}/assignments?limit=1&after=${page.body.nextCursor}`)).body.nextCursor).toBe('');

  const c5 = await newCourse();
  expect(
    await run('C5', [c5], { listIds: [list], restrictVisibility: true, enrol: true, datesMode: 'relative', endDelayDays: 30 }),
  ).toEqual(['SUCCEEDED']);
  expect((await stack.http('GET', `/v1/courses/${c5}/access-properties`)).body.items).toEqual([
    expect.objectContaining({
      objectType: 'course',
      listId: list,
      restrictVisibility: true,
      enrolment: expect.objectContaining({ datesMode: 'relative', endDelayDays: 30, option: 'free' }),
    }),
  ]);
  expect(
    (await stack.http('GET', `/v1/users/${bob}/assignments`)).body.courseAssignments.map((c: { courseId: string }) => c.courseId),
  ).toContain(c5);
  expect(await run('P4', [curriculum], { listId: list, enrol: true, option: 'mandatory', applyOptionToCourses: true })).toEqual([
    'SUCCEEDED',
  ]);
  expect((await stack.http('GET', `/v1/curricula/${curriculum}/access-properties`)).body.items).toHaveLength(1);
});

it('validates the parameters with a dry run of no items, naming the field', async () => {
  const course = await newCourse();
  const list = (await post('/v1/lists', { name: 'Empty', type: 'static' })).id as string;
  expect(await validation('U7', { courseIds: [UNKNOWN_ID] })).toEqual({ code: 'INVALID_ARGUMENT', field: 'courseIds[0]' });
  expect(await validation('U7', { courseIds: [course], startDate: '2027-05-01', endDate: '2027-01-01' })).toEqual({
    code: 'INVALID_ARGUMENT',
    field: 'endDate',
  });
  expect(await validation('U12', { curriculumIds: [UNKNOWN_ID] })).toEqual({ code: 'INVALID_ARGUMENT', field: 'curriculumIds[0]' });
  expect(await validation('U6', { courseIds: [course], listId: UNKNOWN_ID })).toEqual({ code: 'INVALID_ARGUMENT', field: 'listId' });
  expect(await validation('C5', { listIds: [UNKNOWN_ID], enrol: true })).toEqual({ code: 'INVALID_ARGUMENT', field: 'listIds[0]' });
  expect(await validation('P4', { listId: list, enrol: true, datesMode: 'relative', startDelayDays: 9, objectiveDelayDays: 3 })).toEqual({
    code: 'INVALID_ARGUMENT',
    field: 'objectiveDelayDays',
  });
  expect(await validation('U7', { courseIds: [course], option: 'mandatory' })).toBeUndefined();
});

it('shows a scoped administrator only its own users’ assignments, and refuses what needs the root', async () => {
  const outside = await newUser(south);
  const inside = await newUser(north);
  expect((await stack.http('GET', `/v1/users/${outside}/assignments`, { auth: scopedAuth })).status).toBe(404);
  expect((await stack.http('GET', `/v1/users/${inside}/assignments`, { auth: scopedAuth })).status).toBe(200);
  const course = await newCourse();
  expect((await stack.http('GET', `/v1/courses/${course}/assignments`, { auth: scopedAuth })).status).toBe(403);
  expect((await stack.http('GET', `/v1/courses/${course}/access-properties`, { auth: scopedAuth })).status).toBe(403);
});

it('documents the routes with the permission each needs', async () => {
  const spec = (await stack.http('GET', '/docs/json')).body;
  expect(spec.paths['/v1/users/{id}/assignments'].get.description).toMatch(/assignments:read/);
  expect(spec.components.schemas.CourseAssignment).toBeDefined();
});
