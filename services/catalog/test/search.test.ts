import { CourseFilter } from '@assistants/proto/gen/catalog/v1/courses';
import { CurriculumFilter } from '@assistants/proto/gen/catalog/v1/curricula';
import { actorWithin, code, ROOT_ORGANISATION_ID, startCatalogBed, type CatalogBed } from './helpers';

/** Course and curriculum search and selections: every criterion "contains", ALL or ANY,
 * disabled in or out, custom fields, audiences by name, paging with the exact total. */
let bed: CatalogBed;
const ids: Record<string, string> = {};
const curriculumIds: Record<string, string> = {};

const filter = (f: Partial<CourseFilter> = {}) => CourseFilter.fromPartial(f);
const curriculumFilter = (f: Partial<CurriculumFilter> = {}) => CurriculumFilter.fromPartial(f);

beforeAll(async () => {
  bed = await startCatalogBed('catalog_search');
  const { audience } = await bed.fixture.api.audiences.createAudience({ name: 'Documentation readers', description: '' });
  const courses = [
    { name: 'DUPONT basics', provider: 'Acme', modality: 'online', custom1: '', audienceIds: [] },
    { name: 'Safety', provider: 'acme training', modality: 'classroom', custom1: 'Year 2024', audienceIds: [audience!.id] },
    { name: 'Dupuis advanced', provider: 'Other', modality: 'Blended', custom1: '2023', audienceIds: [], disabled: true },
    { name: 'Welding 100%', provider: 'Other', modality: 'online', custom1: '2024-Q1', description: 'sparks_and_fire', audienceIds: [] },
  ];
  for (const { audienceIds, ...fields } of courses) {
    const { course } = await bed.api.courses.createCourse({ fields: { code: code('SRCH'), ...fields }, audienceIds, lessons: [] });
    ids[fields.name] = course!.id;
  }
  for (const [name, audienceIds, disabled] of [
    ['Parcours onboarding', [audience!.id], false],
    ['Parcours sales', [], false],
    ['Leadership', [], true],
  ] as const) {
    const { curriculum } = await bed.api.curricula.createCurriculum({
      fields: { code: code('CUR'), name, disabled, custom2: name === 'Leadership' ? 'parcours' : '' },
      audienceIds: [...audienceIds],
      courseIds: [ids.Safety],
    });
    curriculumIds[name] = curriculum!.id;
  }
});

afterAll(async () => {
  await bed?.stop();
});

const names = async (f: CourseFilter) => (await bed.api.courses.searchCourses({ filter: f })).courses.map((c) => c.name);

it('matches every criterion as "contains", case-insensitive, and leaves disabled courses out unless asked', async () => {
  expect(await names(filter({ name: 'dup' }))).toEqual(['DUPONT basics']);
  expect(await names(filter({ name: 'dup', includeDisabled: true }))).toEqual(['Dupuis advanced', 'DUPONT basics'].sort());
  expect(await names(filter({ provider: 'ACME' }))).toEqual(['DUPONT basics', 'Safety']);
  expect(await names(filter({ modality: 'LINE' }))).toEqual(['DUPONT basics', 'Welding 100%']);
  expect(await names(filter({ description: 's_and' }))).toEqual(['Welding 100%']);
  expect(await names(filter({ name: '100%' }))).toEqual(['Welding 100%']);
  expect(await names(filter({ name: '0%x' }))).toEqual([]);
  expect(await names(filter({ audience: 'documentation' }))).toEqual(['Safety']);
  expect(await names(filter({ audience: 'nobody has this' }))).toEqual([]);
  const [safety] = (await bed.api.courses.searchCourses({ filter: filter({ name: 'safety' }) })).courses;
  expect(await names(filter({ code: safety.code.toLowerCase() }))).toEqual(['Safety']);
});

it('combines criteria with ALL or ANY (the French example: name contains DUP, custom field 1 contains 2024)', async () => {
  expect(await names(filter({ name: 'DUP', custom1: '2024', match: 'all', includeDisabled: true }))).toEqual([]);
  expect(await names(filter({ name: 'DUP', custom1: '2024', match: 'any', includeDisabled: true }))).toEqual(
    ['DUPONT basics', 'Dupuis advanced', 'Safety', 'Welding 100%'].sort(),
  );
  expect(await names(filter({ provider: 'other', custom1: '2024', match: 'all', includeDisabled: true }))).toEqual(['Welding 100%']);
  // Disabled courses stay out even when another criterion matches them under ANY.
  expect(await names(filter({ name: 'DUP', custom1: '2024', match: 'any' }))).toEqual(['DUPONT basics', 'Safety', 'Welding 100%']);
  await expect(bed.api.courses.searchCourses({ filter: filter({ match: 'some' }) })).rejects.toMatchObject({
    code: 'INVALID_ARGUMENT',
    field: 'filter.match',
  });
});

it('pages with the exact total, by offset or by cursor', async () => {
  const all = filter({ includeDisabled: true, name: '' });
  const first = await bed.api.courses.searchCourses({ filter: all, page: { limit: 3, offset: 0, after: '' } });
  expect(first.total).toBe(4);
  expect(first.courses).toHaveLength(3);
  const byOffset = await bed.api.courses.searchCourses({ filter: all, page: { limit: 3, offset: 3, after: '' } });
  const byCursor = await bed.api.courses.searchCourses({ filter: all, page: { limit: 3, offset: 0, after: first.nextCursor } });
  expect(byCursor.courses).toEqual(byOffset.courses);
  expect(byCursor).toMatchObject({ total: 4, nextCursor: '' });
  // Past the last match: no course, still the exact total.
  const beyond = await bed.api.courses.searchCourses({ filter: all, page: { limit: 3, offset: 9, after: '' } });
  expect(beyond).toMatchObject({ courses: [], total: 4, nextCursor: '' });
  expect([...first.courses, ...byCursor.courses].map((c) => c.name)).toEqual([
    'DUPONT basics',
    'Dupuis advanced',
    'Safety',
    'Welding 100%',
  ]);
  await expect(bed.api.courses.searchCourses({ filter: all, page: { limit: 3, offset: 0, after: 'junk!' } })).rejects.toMatchObject({
    field: 'page.after',
  });
});

it('resolves a course selection (ids or filter) minus the excluded ids, with its total', async () => {
  const byFilter = await bed.api.courses.resolveCourseSelection({
    selection: { filter: filter({ modality: 'online' }), excludeIds: [ids['Welding 100%']] },
  });
  expect(byFilter).toMatchObject({ ids: [ids['DUPONT basics']], total: 1, nextCursor: '' });
  expect(byFilter.courses.map((c) => c.name)).toEqual(['DUPONT basics']);
  // Explicit ids include disabled courses; unknown ids are simply absent.
  const byIds = await bed.api.courses.resolveCourseSelection({
    selection: {
      ids: { ids: [ids.Safety, ids['Dupuis advanced'], ids['DUPONT basics'], '3f0c8a52-8a8e-4a57-9c38-2a4f1b0a0b0b'] },
      excludeIds: [ids.Safety],
    },
    page: { limit: 1, offset: 0, after: '' },
  });
  expect(byIds).toMatchObject({ ids: [ids['DUPONT basics']], total: 2 });
  const next = await bed.api.courses.resolveCourseSelection({
    selection: { ids: { ids: [ids.Safety, ids['Dupuis advanced'], ids['DUPONT basics']] }, excludeIds: [ids.Safety] },
    page: { limit: 1, offset: 0, after: byIds.nextCursor },
  });
  expect(next).toMatchObject({ ids: [ids['Dupuis advanced']], total: 2, nextCursor: '' });
  await expect(bed.api.courses.resolveCourseSelection({ selection: { excludeIds: [] } })).rejects.toMatchObject({ field: 'selection' });
  await expect(bed.api.courses.resolveCourseSelection({ selection: { ids: { ids: ['nope'] }, excludeIds: [] } })).rejects.toMatchObject({
    field: 'selection.ids.ids[0]',
  });
});

it('searches curricula by name, description, audience and custom fields, ALL or ANY, and resolves their selections', async () => {
  const curricula = async (f: CurriculumFilter) => (await bed.api.curricula.searchCurricula({ filter: f })).curricula.map((c) => c.name);
  // The French example: name contains "parcours", audience "Audience pour documentation".
  expect(await curricula(curriculumFilter({ name: 'parcours', audience: 'documentation', match: 'all' }))).toEqual(['Parcours onboarding']);
  expect(await curricula(curriculumFilter({ name: 'parcours', audience: 'documentation', match: 'any' }))).toEqual([
    'Parcours onboarding',
    'Parcours sales',
  ]);
  expect(await curricula(curriculumFilter({ custom2: 'PARC', includeDisabled: true }))).toEqual(['Leadership']);
  expect(await curricula(curriculumFilter({ custom2: 'PARC' }))).toEqual([]);
  const { curricula: found, total } = await bed.api.curricula.searchCurricula({ filter: curriculumFilter({ name: 'onboarding' }) });
  expect(total).toBe(1);
  expect(found[0]).toMatchObject({ courseCount: 1, disabled: false });
  const resolved = await bed.api.curricula.resolveCurriculumSelection({
    selection: { filter: curriculumFilter({ includeDisabled: true }), excludeIds: [curriculumIds['Parcours sales']] },
  });
  expect(resolved).toMatchObject({ ids: [curriculumIds.Leadership, curriculumIds['Parcours onboarding']], total: 2 });
});

it('lets whoever holds catalog:read anywhere search, and nobody without it', async () => {
  const { organisation } = await bed.fixture.api.organisations.createOrganisation({
    fields: { extId: 'SEARCH-SCOPED', label: 'Scoped', parentId: ROOT_ORGANISATION_ID },
  });
  const reader = await actorWithin(bed.fixture, [organisation!.id], ['catalog:read']);
  expect((await bed.as(reader.id).courses.searchCourses({ filter: filter({ name: 'safety' }) })).total).toBe(1);
  const stranger = await actorWithin(bed.fixture, [organisation!.id], ['users:read']);
  await expect(bed.as(stranger.id).courses.searchCourses({ filter: filter() })).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
  await expect(
    bed.as(stranger.id).curricula.resolveCurriculumSelection({ selection: { filter: curriculumFilter(), excludeIds: [] } }),
  ).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
  await expect(bed.catalog.client.courses.searchCourses({ filter: filter() })).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
});
