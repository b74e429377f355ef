import { Course, LessonType } from '@assistants/proto/gen/catalog/v1/courses';
import { Curriculum } from '@assistants/proto/gen/catalog/v1/curricula';
import { FolderKind } from '@assistants/proto/gen/catalog/v1/structure';
import { actorWithin, code, lesson, ROOT_ORGANISATION_ID, startCatalogBed, subjects, UNKNOWN_ID, type CatalogBed } from './helpers';

let bed: CatalogBed;
let audienceId: string;

beforeAll(async () => {
  bed = await startCatalogBed('catalog_courses');
  ({
    audience: { id: audienceId },
  } = (await bed.fixture.api.audiences.createAudience({ name: 'Sales', description: '' })) as { audience: { id: string } });
});

afterAll(async () => {
  await bed?.stop();
});

it('creates a course with its lessons and audiences, emits it whole, and gives it back by id', async () => {
  const crs = code('CRS');
  const { result, events } = await bed.events.act(() =>
    bed.api.courses.createCourse({
      fields: { code: crs, name: 'Negotiation', provider: 'ACME', certificateTemplateId: 'tpl-1', externalTraining: true },
      audienceIds: [audienceId],
      lessons: [lesson('Intro'), lesson('Quiz', LessonType.LESSON_TYPE_A)],
    }),
  );
  const course = result.course!;
  expect(course).toMatchObject({
    code: crs,
    name: 'Negotiation',
    audienceIds: [audienceId],
    certificateTemplateId: 'tpl-1',
    externalTraining: true,
    disabled: false,
    settings: { sequentialLessons: false, prerequisites: true, courseType: 'aicc_scorm', windowWidth: 1024 },
  });
  expect(course.lessons.map((l) => [l.name, l.type, l.position])).toEqual([
    ['Intro', LessonType.LESSON_TYPE_L, 1],
    ['Quiz', LessonType.LESSON_TYPE_A, 2],
  ]);
  expect(subjects(events)).toEqual(['catalog.course.created.v1', 'catalog.lesson.created.v1', 'catalog.lesson.created.v1']);
  expect(Course.fromJSON(events[0].data)).toEqual(course);

  const { courses } = await bed.catalog.client.courses.getCourses({ ids: [UNKNOWN_ID, course.id, 'not-an-id'] });
  expect(courses).toEqual([course]);
  // An import names courses by code, in any case.
  const byCode = await bed.catalog.client.courses.getCoursesByCode({ codes: [course.code.toLowerCase(), 'NO-SUCH-CODE'] });
  expect(byCode.courses).toEqual([course]);
});

it('creates a curriculum of ordered courses, given back by GetCurricula', async () => {
  const ids: string[] = [];
  for (const name of ['B', 'A']) {
    ids.push((await bed.api.courses.createCourse({ fields: { code: code('CRS'), name }, audienceIds: [], lessons: [] })).course!.id);
  }
  const { curriculum } = await bed.api.curricula.createCurriculum({
    fields: { code: code('CUR'), name: 'Onboarding' },
    audienceIds: [audienceId],
    courseIds: ids,
  });
  expect(curriculum).toMatchObject({ name: 'Onboarding', courseIds: ids, audienceIds: [audienceId], disabled: false });
  const { curricula } = await bed.catalog.client.curricula.getCurricula({ ids: [curriculum!.id, UNKNOWN_ID] });
  expect(curricula).toEqual([curriculum]);
  const byCode = await bed.catalog.client.curricula.getCurriculaByCode({ codes: [curriculum!.code.toUpperCase(), 'NO-SUCH-CODE'] });
  expect(byCode.curricula).toEqual([curriculum]);
});

it('updates a course as a patch, replaces its audiences when asked, and emits the whole course', async () => {
  const { course } = await bed.api.courses.createCourse({
    fields: { code: code('CRS'), name: 'Before', provider: 'P', custom4: 'four' },
    audienceIds: [audienceId],
    lessons: [],
  });
  const { result, events } = await bed.events.act(() =>
    bed.api.courses.updateCourse({
      id: course!.id,
      fields: { name: 'After', modality: 'online' },
      replaceAudiences: true,
      audienceIds: [],
    }),
  );
  expect(result.course).toMatchObject({ name: 'After', provider: 'P', custom4: 'four', modality: 'online', audienceIds: [] });
  expect(subjects(events)).toEqual(['catalog.course.updated.v1']);
  expect(Course.fromJSON(events[0].data)).toEqual(result.course);
  // Nothing to change: no event.
  const same = await bed.events.act(() =>
    bed.api.courses.updateCourse({ id: course!.id, fields: { name: 'After' }, replaceAudiences: false, audienceIds: [] }),
  );
  expect(same.events).toEqual([]);
  expect((await bed.api.courses.getCourse({ id: '', code: course!.code.toLowerCase() })).course).toEqual(result.course);
});

it('refuses a duplicate code, an unknown audience and a bad lesson, naming the field, and emits nothing', async () => {
  const crs = code('CRS');
  await bed.api.courses.createCourse({ fields: { code: crs, name: 'First' }, audienceIds: [], lessons: [] });
  const cases: [Parameters<typeof bed.api.courses.createCourse>[0], string, string][] = [
    [{ fields: { code: crs.toLowerCase(), name: 'Again' }, audienceIds: [], lessons: [] }, 'ALREADY_EXISTS', 'code'],
    [{ fields: { code: code('CRS') }, audienceIds: [], lessons: [] }, 'INVALID_ARGUMENT', 'name'],
    [{ fields: { code: code('CRS'), name: 'x' }, audienceIds: [UNKNOWN_ID], lessons: [] }, 'INVALID_ARGUMENT', 'audienceIds[0]'],
    [{ fields: { code: code('CRS'), name: 'x', windowHeight: 0 }, audienceIds: [], lessons: [] }, 'INVALID_ARGUMENT', 'windowHeight'],
    [{ fields: { code: code('CRS'), name: 'x', protocol: 'ftp' }, audienceIds: [], lessons: [] }, 'INVALID_ARGUMENT', 'protocol'],
    [{ fields: { code: code('CRS'), name: 'x', folderId: UNKNOWN_ID }, audienceIds: [], lessons: [] }, 'NOT_FOUND', 'folderId'],
    [
      {
        fields: { code: code('CRS'), name: 'x' },
        audienceIds: [],
        lessons: [lesson('a'), { ...lesson('b'), type: LessonType.LESSON_TYPE_UNSPECIFIED }],
      },
      'INVALID_ARGUMENT',
      'lessons[1].type',
    ],
  ];
  for (const [request, errorCode, field] of cases) {
    expect(await bed.events.refused(() => bed.api.courses.createCourse(request))).toMatchObject({ code: errorCode, field });
  }
  const taken = lesson('taken');
  await bed.api.courses.createCourse({ fields: { code: code('CRS'), name: 'y' }, audienceIds: [], lessons: [taken] });
  const err = await bed.events.refused(() =>
    bed.api.courses.createCourse({
      fields: { code: code('CRS'), name: 'z' },
      audienceIds: [],
      lessons: [lesson('ok'), { ...taken, code: taken.code.toUpperCase() }],
    }),
  );
  expect(err).toMatchObject({ code: 'ALREADY_EXISTS', field: 'lessons[1].code' });
});

it('adds, moves, changes and deletes lessons, keeping positions 1..n, each change with its events', async () => {
  const { course } = await bed.api.courses.createCourse({
    fields: { code: code('CRS'), name: 'Lessons' },
    audienceIds: [],
    lessons: [lesson('one'), lesson('two'), lesson('three')],
  });
  const order = async () =>
    (await bed.api.courses.getCourse({ id: course!.id, code: '' })).course!.lessons.map((l) => `${l.position}:${l.name}`);
  const added = await bed.events.act(() =>
    bed.api.courses.addLesson({ courseId: course!.id, fields: { ...lesson('zero', LessonType.LESSON_TYPE_W), position: 1 } }),
  );
  expect(subjects(added.events)).toEqual(['catalog.lesson.created.v1', 'catalog.course.updated.v1']);
  expect(added.events.map((e) => e.data)).toEqual([
    expect.objectContaining({ name: 'zero', type: 'LESSON_TYPE_W', courseId: course!.id }),
    expect.objectContaining({ id: course!.id }),
  ]);
  expect(await order()).toEqual(['1:zero', '2:one', '3:two', '4:three']);
  const lessons = (await bed.api.courses.getCourse({ id: course!.id, code: '' })).course!.lessons;
  await bed.api.courses.updateLesson({
    id: lessons[0].id,
    fields: { position: 4, name: 'last', type: LessonType.LESSON_TYPE_E, optional: true },
  });
  expect(await order()).toEqual(['1:one', '2:two', '3:three', '4:last']);
  await bed.api.courses.updateLesson({ id: lessons[3].id, fields: { position: 1, type: LessonType.LESSON_TYPE_UNSPECIFIED } });
  expect(await order()).toEqual(['1:three', '2:one', '3:two', '4:last']);
  const removed = await bed.events.act(() => bed.api.courses.deleteLesson({ id: lessons[1].id }));
  expect(subjects(removed.events)).toEqual(['catalog.lesson.deleted.v1', 'catalog.course.updated.v1']);
  expect(await order()).toEqual(['1:three', '2:two', '3:last']);
  await expect(
    bed.api.courses.updateLesson({ id: lessons[2].id, fields: { position: 9, type: LessonType.LESSON_TYPE_UNSPECIFIED } }),
  ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'position' });
});

it('deletes a course (with its lessons) unless a curriculum holds it', async () => {
  const { course } = await bed.api.courses.createCourse({
    fields: { code: code('CRS'), name: 'Gone' },
    audienceIds: [],
    lessons: [lesson('l')],
  });
  const { curriculum } = await bed.api.curricula.createCurriculum({
    fields: { code: code('CUR'), name: 'Holder' },
    audienceIds: [],
    courseIds: [course!.id],
  });
  expect(await bed.events.refused(() => bed.api.courses.deleteCourse({ id: course!.id }))).toMatchObject({ code: 'FAILED_PRECONDITION' });
  await bed.api.curricula.updateCurriculum({
    id: curriculum!.id,
    replaceCourses: true,
    courseIds: [],
    replaceAudiences: false,
    audienceIds: [],
  });
  const { events } = await bed.events.act(() => bed.api.courses.deleteCourse({ id: course!.id }));
  expect(subjects(events)).toEqual(['catalog.lesson.deleted.v1', 'catalog.course.deleted.v1']);
  expect(Course.fromJSON(events[1].data)).toMatchObject({ id: course!.id, name: 'Gone' });
  expect((await bed.catalog.client.courses.getCourses({ ids: [course!.id] })).courses).toEqual([]);
  expect((await bed.catalog.db.query('SELECT 1 FROM lessons WHERE course_id = $1', [course!.id])).rows).toEqual([]);
});

it('updates a curriculum, reorders its courses, refuses an unknown or repeated course, and deletes it', async () => {
  const ids: string[] = [];
  for (const name of ['x', 'y', 'z'])
    ids.push((await bed.api.courses.createCourse({ fields: { code: code('CRS'), name }, audienceIds: [], lessons: [] })).course!.id);
  const { curriculum } = await bed.api.curricula.createCurriculum({
    fields: { code: code('CUR'), name: 'Order' },
    audienceIds: [],
    courseIds: ids,
  });
  const { result, events } = await bed.events.act(() =>
    bed.api.curricula.updateCurriculum({
      id: curriculum!.id,
      fields: { description: 'now', custom5: 'five' },
      replaceCourses: true,
      courseIds: [ids[2], ids[0]],
      replaceAudiences: true,
      audienceIds: [audienceId],
    }),
  );
  expect(result.curriculum).toMatchObject({ description: 'now', custom5: 'five', courseIds: [ids[2], ids[0]], audienceIds: [audienceId] });
  expect(subjects(events)).toEqual(['catalog.curriculum.updated.v1']);
  expect(Curriculum.fromJSON(events[0].data)).toEqual(result.curriculum);
  for (const [courseIds, field] of [
    [[ids[0], UNKNOWN_ID], 'courseIds[1]'],
    [[ids[0], ids[0]], 'courseIds[1]'],
  ] as const) {
    const err = await bed.events.refused(() =>
      bed.api.curricula.updateCurriculum({
        id: curriculum!.id,
        replaceCourses: true,
        courseIds: [...courseIds],
        replaceAudiences: false,
        audienceIds: [],
      }),
    );
    expect(err).toMatchObject({ code: 'INVALID_ARGUMENT', field });
  }
  const deleted = await bed.events.act(() => bed.api.curricula.deleteCurriculum({ id: curriculum!.id }));
  expect(subjects(deleted.events)).toEqual(['catalog.curriculum.deleted.v1']);
  await expect(bed.api.curricula.getCurriculum({ id: curriculum!.id, code: '' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
});

it('lets a scoped administrator read the catalogue but change nothing in it', async () => {
  const { organisation } = await bed.fixture.api.organisations.createOrganisation({
    fields: { extId: 'CATALOG-SCOPED', label: 'Scoped', parentId: ROOT_ORGANISATION_ID },
  });
  const scoped = bed.as((await actorWithin(bed.fixture, [organisation!.id])).id);
  const { course } = await bed.api.courses.createCourse({ fields: { code: code('CRS'), name: 'Read only' }, audienceIds: [], lessons: [] });
  expect((await scoped.courses.getCourse({ id: course!.id, code: '' })).course!.name).toBe('Read only');
  const attempts: (() => Promise<unknown>)[] = [
    () => scoped.courses.createCourse({ fields: { code: code('CRS'), name: 'no' }, audienceIds: [], lessons: [] }),
    () => scoped.courses.updateCourse({ id: course!.id, fields: { name: 'no' }, replaceAudiences: false, audienceIds: [] }),
    () => scoped.courses.deleteCourse({ id: course!.id }),
    () => scoped.courses.addLesson({ courseId: course!.id, fields: lesson('no') }),
    () => scoped.curricula.createCurriculum({ fields: { code: code('CUR'), name: 'no' }, audienceIds: [], courseIds: [] }),
    () => scoped.structure.createFolder({ kind: FolderKind.FOLDER_KIND_COURSE, name: 'no', parentId: '' }),
    () => scoped.structure.createCategory({ name: 'no', description: '' }),
    () => scoped.structure.createCompetency({ code: 'no', name: 'no', description: '' }),
  ];
  for (const attempt of attempts) expect(await bed.events.refused(attempt)).toMatchObject({ code: 'PERMISSION_DENIED' });
  expect((await bed.api.courses.getCourse({ id: course!.id, code: '' })).course!.name).toBe('Read only');
});
