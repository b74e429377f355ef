import { actingAs, basic, readStream, startStack, type TestStack } from '@assistants/testing';
import { Outcome } from '@assistants/proto/gen/batch/v1/batch';
import { catalogActions } from '../src/actions/catalog';
import { walkCourseSelection, walkCurriculumSelection } from '../src/catalog-selection';
import type { Upstreams } from '../src/upstreams';

/** The catalogue through the API: folders, categories, competencies, courses with lessons,
 * curricula, search and selections; the catalog service decides who may change it (a grant on
 * the root), and the course and curriculum actions C1-C4, P1-P3 reach it. */
let stack: TestStack;
let scopedAuth: string;
let audienceId: string;

const post = async (path: string, body: object, auth?: string) => {
  const result = await stack.http('POST', path, { body, auth });
  if (result.status >= 300) throw new Error(`${path}: ${result.status} ${JSON.stringify(result.body)}`);
  return result.body;
};

beforeAll(async () => {
  stack = await startStack();
  audienceId = (await post('/v1/audiences', { name: 'Engineers' })).id;
  // An administrator of one sub-tree only, with every permission there.
  const eu = (await post('/v1/organisations', { extId: 'EU', label: 'Europe' })).id;
  const everything = (await post('/v1/roles', { name: 'Everything', permissions: ['*'] })).id;
  const scoped = await post('/v1/users', {
    login: 'eu-admin',
    lastName: 'Admin',
    firstName: 'EU',
    organisationId: eu,
    password: 'eu admin password',
  });
  await post(`/v1/users/${scoped.id}/roles`, { roleIds: [everything], organisationId: eu });
  scopedAuth = basic('eu-admin', 'eu admin password');
});

afterAll(async () => {
  await stack?.stop();
});

it('sets up a catalogue: folders, a category, a course with lessons, a curriculum of ordered courses', async () => {
  const top = await post('/v1/catalog/folders', { kind: 'course', name: 'Technical' });
  const sub = await post('/v1/catalog/folders', { kind: 'course', name: 'Welding', parentId: top.id });
  expect(sub).toMatchObject({ kind: 'course', parentId: top.id, depth: 1 });
  const category = await post('/v1/catalog/categories', { name: 'Safety' });
  await post('/v1/catalog/competencies', { code: 'WELD', name: 'Welding' });

  const created = await stack.http('POST', '/v1/courses', {
    body: {
      code: 'WELD-101',
      name: 'Welding basics',
      provider: 'Acme',
      folderId: sub.id,
      categoryId: category.id,
      audienceIds: [audienceId],
      sequentialLessons: true,
      windowWidth: 1280,
      lessons: [
        { code: 'WELD-101-L1', name: 'Theory', type: 'L' },
        { code: 'WELD-101-A1', name: 'Practice', type: 'A', optional: true },
      ],
    },
  });
  expect(created.status).toBe(201);
  expect(created.headers.get('location')).toBe(`/v1/courses/${created.body.id}`);
  const course = created.body;
  expect(course).toMatchObject({
    code: 'WELD-101',
    folderId: sub.id,
    categoryId: category.id,
    audienceIds: [audienceId],
    sequentialLessons: true,
    prerequisites: false,
    courseType: 'aicc_scorm',
    windowWidth: 1280,
    windowHeight: 768,
  });
  expect(course.lessons.map((l: { type: string; position: number }) => [l.type, l.position])).toEqual([
    ['L', 1],
    ['A', 2],
  ]);
  const lesson = await post(`/v1/courses/${course.id}/lessons`, { code: 'WELD-101-W1', name: 'Webinar', type: 'W', position: 1 });
  expect(lesson).toMatchObject({ type: 'W', position: 1, courseId: course.id });
  const moved = await stack.http('PATCH', `/v1/lessons/${lesson.id}`, { body: { position: 3, type: 'E' } });
  expect(moved.body).toMatchObject({ type: 'E', position: 3 });
  expect((await stack.http('GET', `/v1/courses/${course.id}`)).body.lessons.map((l: { name: string }) => l.name)).toEqual([
    'Theory',
    'Practice',
    'Webinar',
  ]);

  const second = await post('/v1/courses', { code: 'WELD-102', name: 'Welding advanced' });
  const path = await post('/v1/catalog/folders', { kind: 'curriculum', name: 'Paths' });
  const curriculum = await post('/v1/curricula', {
    code: 'WELDER',
    name: 'Welder',
    folderId: path.id,
    courseIds: [second.id, course.id],
    audienceIds: [audienceId],
  });
  expect(curriculum.courseIds).toEqual([second.id, course.id]);
  const reordered = await stack.http('PUT', `/v1/curricula/${curriculum.id}/courses`, { body: { courseIds: [course.id, second.id] } });
  expect(reordered.body.courseIds).toEqual([course.id, second.id]);
  expect((await stack.http('GET', '/v1/catalog/folders?kind=course')).body.items.map((f: { name: string }) => f.name)).toEqual([
    'Technical',
    'Welding',
  ]);

  await stack.catalog.flushEvents();
  const subjects = new Set((await readStream(stack.catalog.bus, 'CATALOG')).map((e) => e.subject));
  for (const subject of ['folder', 'category', 'competency', 'course', 'lesson', 'curriculum']) {
    expect(subjects.has(`catalog.${subject}.created.v1`)).toBe(true);
  }
});

it('answers 400 naming the field: the schema, and the service (sequential lessons and prerequisites alike)', async () => {
  const { id } = await post('/v1/courses', { code: 'RULES', name: 'Rules' });
  const cases: [string, string, object, string][] = [
    ['POST', '/v1/courses', { code: 'has space', name: 'x' }, 'code'],
    ['POST', '/v1/courses', { code: 'OK', name: 'x', windowWidth: 0 }, 'windowWidth'],
    ['POST', '/v1/courses', { code: 'OK', name: 'x', lessons: [{ code: 'L', name: 'l', type: 'Z' }] }, 'lessons.0.type'],
    ['PATCH', `/v1/courses/${id}`, { sequentialLessons: false, prerequisites: false }, 'sequentialLessons'],
    ['PATCH', `/v1/courses/${id}`, { audienceIds: ['3f0c8a52-8a8e-4a57-9c38-2a4f1b0a0b0b'] }, 'audienceIds[0]'],
    ['POST', '/v1/curricula', { code: 'C', name: 'c', courseIds: ['3f0c8a52-8a8e-4a57-9c38-2a4f1b0a0b0b'] }, 'courseIds[0]'],
  ];
  for (const [method, path, body, field] of cases) {
    const result = await stack.http(method, path, { body });
    expect([result.status, result.body.field]).toEqual([400, field]);
  }
  expect((await stack.http('POST', '/v1/courses', { body: { code: 'rules', name: 'again' } })).status).toBe(409);
});

it('searches courses and curricula and resolves their selections, with the exact total', async () => {
  const search = await post('/v1/courses/search', { filter: { name: 'welding', provider: 'acme', match: 'any' }, limit: 1 });
  expect(search).toMatchObject({ total: 2, limit: 1, offset: 0 });
  expect(search.nextCursor).not.toBe('');
  const ids = (await post('/v1/courses/search', { filter: { name: 'welding' } })).items.map((c: { id: string }) => c.id);
  const resolved = await post('/v1/selections/courses/resolve', {
    selection: { type: 'filter', filter: { name: 'weld' }, excludeIds: [ids[0]] },
  });
  expect(resolved).toMatchObject({ total: 1, items: [{ id: ids[1] }] });
  const curricula = await post('/v1/curricula/search', { filter: { audience: 'engineer' } });
  expect(curricula).toMatchObject({ total: 1, items: [{ code: 'WELDER', courseCount: 2 }] });
  const byIds = await post('/v1/selections/curricula/resolve', { selection: { type: 'ids', ids: [curricula.items[0].id] } });
  expect(byIds.total).toBe(1);
  const bad = await stack.http('POST', '/v1/courses/search', { body: { filter: { match: 'most' } } });
  expect([bad.status, bad.body.field]).toEqual([400, 'filter.match']);
});

it('walks a course or curriculum selection for a run, with the codes as labels, and refuses one too large', async () => {
  const catalog = actingAs(stack.catalog.client, stack.fixture.adminId);
  const pages: { ids: string[]; labels: string[] }[] = [];
  for await (const page of walkCourseSelection(catalog, { type: 'filter', filter: { code: 'weld-' } }, 10)) pages.push(page);
  expect(pages.map((p) => p.labels)).toEqual([['WELD-102', 'WELD-101']]);
  const walk = async () => {
    for await (const page of walkCurriculumSelection(catalog, { type: 'filter', filter: {} }, 0)) expect(page).toBeUndefined();
  };
  await expect(walk()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'selection' });
});

it('documents the catalogue in the OpenAPI document, with what each route needs', async () => {
  const spec = (await stack.http('GET', '/docs/json')).body;
  expect(Object.keys(spec.components.schemas)).toEqual(
    expect.arrayContaining(['Course', 'Lesson', 'CourseFilter', 'CourseSelection', 'Curriculum', 'CurriculumSelection', 'CatalogFolder']),
  );
  expect(spec.paths['/v1/courses'].post.description).toMatch(/Needs the permission catalog:write \(on the root organisation\)/);
  expect(spec.paths['/v1/selections/courses/resolve'].post.description).toMatch(/catalog:read/);
});

it('lets an administrator of a sub-tree read the catalogue but not change it', async () => {
  const UNKNOWN = '3f0c8a52-8a8e-4a57-9c38-2a4f1b0a0b0b';
  const [course] = (await post('/v1/courses/search', { filter: { code: 'WELD-101' } })).items;
  expect((await stack.http('GET', `/v1/courses/${course.id}`, { auth: scopedAuth })).status).toBe(200);
  const attempts: [string, string, object?][] = [
    ['POST', '/v1/courses', { code: 'SCOPED', name: 'no' }],
    ['PATCH', `/v1/courses/${course.id}`, { name: 'no' }],
    ['DELETE', `/v1/courses/${course.id}`],
    ['POST', `/v1/courses/${course.id}/lessons`, { code: 'SCOPED-L', name: 'no', type: 'L' }],
    ['POST', '/v1/curricula', { code: 'SCOPED', name: 'no' }],
    ['POST', '/v1/catalog/folders', { kind: 'course', name: 'no' }],
    ['POST', '/v1/catalog/categories', { name: 'no' }],
    ['POST', '/v1/catalog/competencies', { code: 'NO', name: 'no' }],
    // Changing or deleting what exists is refused the same way, whatever the id names.
    ['PATCH', `/v1/lessons/${UNKNOWN}`, { name: 'no' }],
    ['DELETE', `/v1/lessons/${UNKNOWN}`],
    ['PATCH', `/v1/curricula/${UNKNOWN}`, { name: 'no' }],
    ['PUT', `/v1/curricula/${UNKNOWN}/courses`, { courseIds: [course.id] }],
    ['DELETE', `/v1/curricula/${UNKNOWN}`],
    ['PATCH', `/v1/catalog/folders/${UNKNOWN}`, { name: 'no' }],
    ['DELETE', `/v1/catalog/folders/${UNKNOWN}`],
    ['PATCH', `/v1/catalog/categories/${UNKNOWN}`, { name: 'no' }],
    ['DELETE', `/v1/catalog/categories/${UNKNOWN}`],
    ['PATCH', `/v1/catalog/competencies/${UNKNOWN}`, { name: 'no' }],
    ['DELETE', `/v1/catalog/competencies/${UNKNOWN}`],
  ];
  for (const [method, path, body] of attempts) {
    const result = await stack.http(method, path, { body, auth: scopedAuth });
    expect([method, path, result.status, result.body.error]).toEqual([method, path, 403, 'permission_denied']);
  }
  expect((await stack.http('GET', `/v1/courses/${course.id}`)).body.name).toBe('Welding basics');
});

describe('the actions C1-C4 and P1-P3', () => {
  let upstreams: Upstreams;
  let keys = 0;
  const batch = (dryRun = false) => ({ idempotencyKey: dryRun ? '' : `catalog-test:${++keys}`, dryRun });
  const action = (id: string) => catalogActions.find((a) => a.id === id)!;

  beforeAll(() => {
    // As the run engine calls them: on behalf of the administrator who started the run.
    upstreams = { identity: stack.fixture.api, catalog: actingAs(stack.catalog.client, stack.fixture.adminId) } as Upstreams;
  });

  it('are declared for the course and curriculum assistants, with "unchanged" choices', () => {
    expect(catalogActions.map((a) => [a.id, a.assistant])).toEqual([
      ['C1', 'courses'],
      ['C2', 'courses'],
      ['C3', 'courses'],
      ['C4', 'courses'],
      ['P1', 'curricula'],
      ['P2', 'curricula'],
      ['P3', 'curricula'],
    ]);
    const properties = (id: string) => (action(id).params as unknown as { properties: Record<string, { enum?: string[] }> }).properties;
    expect(Object.keys(properties('C3'))).toEqual([
      'selfEnrolment',
      'selfUnenrolment',
      'learnerMayClearStats',
      'learnerMayRecomputeStatus',
      'sequentialLessons',
      'prerequisites',
      'courseType',
      'protocol',
      'reviewMode',
      'browseMode',
      'windowWidth',
      'windowHeight',
      'fullScreen',
    ]);
    expect(properties('C3').sequentialLessons.enum).toEqual(['unchanged', 'yes', 'no']);
    expect(properties('C3').courseType.enum).toEqual(['unchanged', 'aicc_scorm', 'aicc_only', 'instructor_led']);
    expect(properties('C3').reviewMode.enum).toEqual(['unchanged', 'allowed', 'not_allowed', 'suspend']);
    expect(Object.keys(properties('C1'))).toEqual(['disabled', 'provider', 'freeText1', 'freeText2']);
    expect(properties('C1').disabled.enum).toEqual(['unchanged', 'yes', 'no']);
    expect(Object.keys(properties('C2'))).toEqual(Array.from({ length: 10 }, (_, i) => `custom${i + 1}`));
    expect(Object.keys(properties('P1'))).toEqual(['disabled', 'freeText1', 'freeText2']);
    expect(Object.keys(properties('P3'))).toEqual(['audienceIds']);
  });

  it('apply each batch to the catalogue', async () => {
    const course = await post('/v1/courses', { code: 'ACT-1', name: 'Acted on' });
    const curriculum = await post('/v1/curricula', { code: 'ACT-P', name: 'Acted on' });
    const run = async (id: string, itemIds: string[], params: object) => {
      const result = await action(id).apply(upstreams, itemIds, params as never, batch());
      return result.results.map((r) => r.outcome);
    };
    expect(await run('C1', [course.id], { disabled: 'yes', provider: 'Prov', freeText1: 'one' })).toEqual([Outcome.OUTCOME_SUCCEEDED]);
    expect(await run('C2', [course.id], { custom1: 'a', custom10: 'j' })).toEqual([Outcome.OUTCOME_SUCCEEDED]);
    expect(
      await run('C3', [course.id], {
        selfEnrolment: 'yes',
        prerequisites: 'no',
        courseType: 'aicc_only',
        reviewMode: 'unchanged',
        windowHeight: 500,
      }),
    ).toEqual([Outcome.OUTCOME_SUCCEEDED]);
    expect(await run('C4', [course.id], { audienceIds: [audienceId] })).toEqual([Outcome.OUTCOME_SUCCEEDED]);
    expect((await stack.http('GET', `/v1/courses/${course.id}`)).body).toMatchObject({
      disabled: true,
      provider: 'Prov',
      freeText1: 'one',
      custom1: 'a',
      custom10: 'j',
      selfEnrolment: true,
      prerequisites: false,
      sequentialLessons: true,
      courseType: 'aicc_only',
      reviewMode: 'allowed',
      windowHeight: 500,
      audienceIds: [audienceId],
    });
    expect(await run('P1', [curriculum.id], { disabled: 'no', freeText2: 'two' })).toEqual([Outcome.OUTCOME_SUCCEEDED]);
    expect(await run('P2', [curriculum.id], { custom2: 'b' })).toEqual([Outcome.OUTCOME_SUCCEEDED]);
    expect(await run('P3', [curriculum.id], { audienceIds: [audienceId] })).toEqual([Outcome.OUTCOME_SUCCEEDED]);
    expect((await stack.http('GET', `/v1/curricula/${curriculum.id}`)).body).toMatchObject({
      disabled: false,
      freeText2: 'two',
      custom2: 'b',
      audienceIds: [audienceId],
    });
  });

  it('are validated with no items and a dry run, the way the run engine checks parameters', async () => {
    await expect(
      action('C3').apply(upstreams, [], { sequentialLessons: 'yes', prerequisites: 'yes' } as never, batch(true)),
    ).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'sequentialLessons',
    });
    await expect(
      action('P3').apply(upstreams, [], { audienceIds: ['3f0c8a52-8a8e-4a57-9c38-2a4f1b0a0b0b'] } as never, batch(true)),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'audienceIds[0]' });
    expect(await action('C1').apply(upstreams, [], { disabled: 'yes' } as never, batch(true))).toEqual({ results: [], replayed: false });
  });
});
