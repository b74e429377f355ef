import { Folder, FolderKind } from '@assistants/proto/gen/catalog/v1/structure';
import { code, startCatalogBed, subjects, UNKNOWN_ID, type CatalogBed } from './helpers';

/** Folders (a course tree and a curriculum tree), categories and competencies. */
let bed: CatalogBed;

beforeAll(async () => {
  bed = await startCatalogBed('catalog_structure');
});

afterAll(async () => {
  await bed?.stop();
});

const COURSE = FolderKind.FOLDER_KIND_COURSE;
const CURRICULUM = FolderKind.FOLDER_KIND_CURRICULUM;

it('keeps course and curriculum folders as trees: create, list, rename, move with the sub-tree, delete when empty', async () => {
  const folder = async (name: string, parentId = '', kind = COURSE) =>
    (await bed.api.structure.createFolder({ kind, name, parentId })).folder!;
  const { result: sales, events } = await bed.events.act(() => folder('Sales'));
  expect(subjects(events)).toEqual(['catalog.folder.created.v1']);
  expect(Folder.fromJSON(events[0].data)).toEqual(sales);
  const europe = await folder('Europe', sales.id);
  const france = await folder('France', europe.id);
  const archive = await folder('Archive');
  const paths = await folder('Paths', '', CURRICULUM);
  expect(france.depth).toBe(2);

  const tree = async (kind: FolderKind) =>
    (await bed.api.structure.listFolders({ kind })).folders.map((f) => `${'  '.repeat(f.depth)}${f.name}`);
  expect(await tree(COURSE)).toEqual(['Archive', 'Sales', '  Europe', '    France']);
  expect(await tree(CURRICULUM)).toEqual(['Paths']);

  // Siblings have distinct names; a folder takes a parent of its own kind, never under itself.
  await expect(folder('sales')).rejects.toMatchObject({ code: 'ALREADY_EXISTS', field: 'name' });
  await expect(folder('Mixed', paths.id)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'parentId' });
  await expect(bed.api.structure.updateFolder({ id: sales.id, parentId: france.id })).rejects.toMatchObject({
    code: 'INVALID_ARGUMENT',
    field: 'parentId',
  });

  const moved = await bed.events.act(() => bed.api.structure.updateFolder({ id: europe.id, parentId: archive.id, name: 'EU' }));
  expect(subjects(moved.events)).toEqual(['catalog.folder.updated.v1', 'catalog.folder.updated.v1']);
  expect(moved.result.folder).toMatchObject({ name: 'EU', parentId: archive.id, depth: 1 });
  expect(await tree(COURSE)).toEqual(['Archive', '  EU', '    France', 'Sales']);

  // A course in a folder keeps it from being deleted; a course may only sit in a course folder.
  const { course } = await bed.api.courses.createCourse({
    fields: { code: code('CRS'), name: 'Filed', folderId: france.id },
    audienceIds: [],
    lessons: [],
  });
  expect(course!.folderId).toBe(france.id);
  await expect(
    bed.api.courses.createCourse({ fields: { code: code('CRS'), name: 'x', folderId: paths.id }, audienceIds: [], lessons: [] }),
  ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'folderId' });
  await expect(
    bed.api.curricula.createCurriculum({ fields: { code: code('CUR'), name: 'x', folderId: france.id }, audienceIds: [], courseIds: [] }),
  ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'folderId' });
  expect(await bed.events.refused(() => bed.api.structure.deleteFolder({ id: france.id }))).toMatchObject({ code: 'FAILED_PRECONDITION' });
  expect(await bed.events.refused(() => bed.api.structure.deleteFolder({ id: europe.id }))).toMatchObject({ code: 'FAILED_PRECONDITION' });
  await bed.api.courses.updateCourse({ id: course!.id, fields: { folderId: '' }, replaceAudiences: false, audienceIds: [] });
  const deleted = await bed.events.act(() => bed.api.structure.deleteFolder({ id: france.id }));
  expect(subjects(deleted.events)).toEqual(['catalog.folder.deleted.v1']);
  expect(await tree(COURSE)).toEqual(['Archive', '  EU', 'Sales']);
  await expect(bed.api.structure.deleteFolder({ id: UNKNOWN_ID })).rejects.toMatchObject({ code: 'NOT_FOUND' });
});

it('keeps categories: a course takes one, and loses it when it is deleted', async () => {
  const { result, events } = await bed.events.act(() => bed.api.structure.createCategory({ name: 'Compliance', description: 'rules' }));
  const category = result.category!;
  expect(subjects(events)).toEqual(['catalog.category.created.v1']);
  await expect(bed.api.structure.createCategory({ name: 'COMPLIANCE', description: '' })).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
  const renamed = await bed.api.structure.updateCategory({ id: category.id, name: 'Compliance 2' });
  expect(renamed.category).toMatchObject({ name: 'Compliance 2', description: 'rules' });
  const { course } = await bed.api.courses.createCourse({
    fields: { code: code('CRS'), name: 'Categorised', categoryId: category.id },
    audienceIds: [],
    lessons: [],
  });
  expect(course!.categoryId).toBe(category.id);
  expect((await bed.api.structure.listCategories({})).categories.map((c) => c.name)).toEqual(['Compliance 2']);
  const deleted = await bed.events.act(() => bed.api.structure.deleteCategory({ id: category.id }));
  expect(subjects(deleted.events)).toEqual(['catalog.course.updated.v1', 'catalog.category.deleted.v1']);
  expect((await bed.api.courses.getCourse({ id: course!.id, code: '' })).course!.categoryId).toBe('');
});

it('keeps competencies with a unique code', async () => {
  const { result, events } = await bed.events.act(() =>
    bed.api.structure.createCompetency({ code: 'COMM-1', name: 'Communication', description: 'speaks well' }),
  );
  expect(subjects(events)).toEqual(['catalog.competency.created.v1']);
  await bed.api.structure.createCompetency({ code: 'LEAD-1', name: 'Leadership', description: '' });
  await expect(bed.api.structure.createCompetency({ code: 'comm-1', name: 'x', description: '' })).rejects.toMatchObject({
    code: 'ALREADY_EXISTS',
    field: 'code',
  });
  const updated = await bed.api.structure.updateCompetency({ id: result.competency!.id, name: 'Oral communication' });
  expect(updated.competency).toMatchObject({ code: 'COMM-1', name: 'Oral communication' });
  const list = async (query: string) => (await bed.api.structure.listCompetencies({ query, ids: [] })).competencies.map((c) => c.code);
  expect(await list('')).toEqual(['COMM-1', 'LEAD-1']);
  expect(await list('oral')).toEqual(['COMM-1']);
  const deleted = await bed.events.act(() => bed.api.structure.deleteCompetency({ id: result.competency!.id }));
  expect(subjects(deleted.events)).toEqual(['catalog.competency.deleted.v1']);
  expect(await list('')).toEqual(['LEAD-1']);
});
