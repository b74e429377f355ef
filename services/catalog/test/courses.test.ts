import { Course, LessonType } from '@assistants/proto/gen/catalog/v1/courses';
import { code, lesson, startCatalogBed, subjects, UNKNOWN_ID, type CatalogBed } from './helpers';

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
});
