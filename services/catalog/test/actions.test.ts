import { Outcome, type BatchResult } from '@assistants/proto/gen/batch/v1/batch';
import { Course } from '@assistants/proto/gen/catalog/v1/courses';
import { Curriculum } from '@assistants/proto/gen/catalog/v1/curricula';
import { actorWithin, code, ROOT_ORGANISATION_ID, startCatalogBed, subjects, UNKNOWN_ID, type CatalogBed } from './helpers';

/** The bulk actions of the course (C1-C4) and curriculum (P1-P3) assistants, on the real
 * catalog, identity, NATS and PostgreSQL. */
let bed: CatalogBed;
let audiences: string[];

beforeAll(async () => {
  bed = await startCatalogBed('catalog_actions');
  audiences = [];
  for (const name of ['North', 'South']) {
    audiences.push((await bed.fixture.api.audiences.createAudience({ name, description: '' })).audience!.id);
  }
});

afterAll(async () => {
  await bed?.stop();
});

let keys = 0;
const header = (dryRun = false) => ({ idempotencyKey: dryRun ? '' : `test:${++keys}`, dryRun });

async function newCourses(n: number, fields: Record<string, unknown> = {}): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const { course } = await bed.api.courses.createCourse({
      fields: { code: code('CRS'), name: `Course ${i}`, ...fields },
      audienceIds: [],
      lessons: [],
    });
    ids.push(course!.id);
  }
  return ids;
}

async function newCurricula(n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const { curriculum } = await bed.api.curricula.createCurriculum({
      fields: { code: code('CUR'), name: `Curriculum ${i}` },
      audienceIds: [],
      courseIds: [],
    });
    ids.push(curriculum!.id);
  }
  return ids;
}

const courses = async (ids: string[]) => (await bed.catalog.client.courses.getCourses({ ids })).courses;
const curricula = async (ids: string[]) => (await bed.catalog.client.curricula.getCurricula({ ids })).curricula;
const outcomes = (result: BatchResult | undefined) => result!.results.map((r) => [r.itemId, r.outcome, r.code]);

const rowCount = async (sql: string) => Number((await bed.catalog.db.query<{ n: string }>(sql)).rows[0].n);

it('C1 changes disabled, provider and free texts, leaves what is unchanged, reports UNCHANGED and NOT_FOUND', async () => {
  const [a, b] = await newCourses(2, { provider: 'Old', freeText2: 'keep' });
  await bed.api.courses.modifyCourseInformation({ batch: header(), courseIds: [b], disabled: true, provider: 'New', freeText1: 'one' });
  const { result, events } = await bed.events.act(() =>
    bed.api.courses.modifyCourseInformation({
      batch: header(),
      courseIds: [a, b, UNKNOWN_ID, 'junk'],
      disabled: true,
      provider: 'New',
      freeText1: 'one',
    }),
  );
  expect(outcomes(result.result)).toEqual([
    [a, Outcome.OUTCOME_SUCCEEDED, ''],
    [b, Outcome.OUTCOME_UNCHANGED, 'ALREADY_SET'],
    [UNKNOWN_ID, Outcome.OUTCOME_FAILED, 'NOT_FOUND'],
    ['junk', Outcome.OUTCOME_FAILED, 'NOT_FOUND'],
  ]);
  const [after] = await courses([a]);
  expect(after).toMatchObject({ disabled: true, provider: 'New', freeText1: 'one', freeText2: 'keep' });
  expect(subjects(events)).toEqual(['catalog.course.updated.v1']);
  expect(Course.fromJSON(events[0].data)).toEqual(after);
});

it('C2 changes only the custom fields given', async () => {
  const [a] = await newCourses(1, { custom1: 'c1', custom2: 'c2' });
  const { result } = await bed.api.courses.modifyCourseCustomFields({ batch: header(), courseIds: [a], custom2: 'two', custom10: 'ten' });
  expect(outcomes(result)).toEqual([[a, Outcome.OUTCOME_SUCCEEDED, '']]);
  expect((await courses([a]))[0]).toMatchObject({ custom1: 'c1', custom2: 'two', custom10: 'ten', custom3: '' });
});

describe('C3', () => {
  it('changes every setting given and leaves the others', async () => {
    const [a] = await newCourses(1, { selfUnenrolment: true });
    const { result } = await bed.api.courses.modifyCourseSettings({
      batch: header(),
      courseIds: [a],
      selfEnrolment: true,
      learnerMayClearStats: true,
      learnerMayRecomputeStatus: true,
      sequentialLessons: true,
      prerequisites: false,
      courseType: 'instructor_led',
      protocol: 'aicc_hacp',
      reviewMode: 'suspend',
      browseMode: 'not_allowed',
      windowWidth: 800,
      windowHeight: 600,
      fullScreen: true,
    });
    expect(outcomes(result)).toEqual([[a, Outcome.OUTCOME_SUCCEEDED, '']]);
    expect((await courses([a]))[0].settings).toEqual({
      selfEnrolment: true,
      selfUnenrolment: true,
      learnerMayClearStats: true,
      learnerMayRecomputeStatus: true,
      sequentialLessons: true,
      prerequisites: false,
      courseType: 'instructor_led',
      protocol: 'aicc_hacp',
      reviewMode: 'suspend',
      browseMode: 'not_allowed',
      windowWidth: 800,
      windowHeight: 600,
      fullScreen: true,
    });
  });

  it('sets the other of sequential lessons and prerequisites to its opposite when one is given', async () => {
    const [a] = await newCourses(1);
    await bed.api.courses.modifyCourseSettings({ batch: header(), courseIds: [a], sequentialLessons: true });
    expect((await courses([a]))[0].settings).toMatchObject({ sequentialLessons: true, prerequisites: false });
    await bed.api.courses.modifyCourseSettings({ batch: header(), courseIds: [a], prerequisites: true });
    expect((await courses([a]))[0].settings).toMatchObject({ sequentialLessons: false, prerequisites: true });
  });

  it.each([true, false])(
    'refuses sequential lessons and prerequisites both %s, naming sequentialLessons, before any item',
    async (value) => {
      const [a] = await newCourses(1);
      for (const dryRun of [true, false]) {
        const err = await bed.events.refused(() =>
          bed.api.courses.modifyCourseSettings({
            batch: header(dryRun),
            courseIds: dryRun ? [] : [a],
            sequentialLessons: value,
            prerequisites: value,
          }),
        );
        expect(err).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'sequentialLessons' });
      }
      // The same rule on create and update.
      await expect(
        bed.api.courses.createCourse({
          fields: { code: code('CRS'), name: 'x', sequentialLessons: value, prerequisites: value },
          audienceIds: [],
          lessons: [],
        }),
      ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'sequentialLessons' });
      await expect(
        bed.api.courses.updateCourse({
          id: a,
          fields: { sequentialLessons: value, prerequisites: value },
          replaceAudiences: false,
          audienceIds: [],
        }),
      ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'sequentialLessons' });
    },
  );

  it('refuses a window size that is not a positive number of pixels, and an unknown course type', async () => {
    await expect(bed.api.courses.modifyCourseSettings({ batch: header(true), courseIds: [], windowWidth: 0 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'windowWidth',
    });
    await expect(bed.api.courses.modifyCourseSettings({ batch: header(true), courseIds: [], courseType: 'scorm' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'courseType',
    });
  });
});

it('C4 adds audiences that exist, keeps those there, and refuses an unknown one naming it', async () => {
  const [a, b] = await newCourses(2);
  await bed.api.courses.addCourseAudiences({ batch: header(), courseIds: [b], audienceIds: [audiences[1], audiences[0]] });
  const { result } = await bed.api.courses.addCourseAudiences({
    batch: header(),
    courseIds: [a, b],
    audienceIds: [audiences[0], audiences[1]],
  });
  expect(outcomes(result)).toEqual([
    [a, Outcome.OUTCOME_SUCCEEDED, ''],
    [b, Outcome.OUTCOME_UNCHANGED, 'ALREADY_HAS_AUDIENCES'],
  ]);
  expect((await courses([a]))[0].audienceIds).toEqual([...audiences].sort());
  const err = await bed.events.refused(() =>
    bed.api.courses.addCourseAudiences({ batch: header(true), courseIds: [], audienceIds: [audiences[0], UNKNOWN_ID] }),
  );
  expect(err).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'audienceIds[1]' });
});

it('a dry run answers what each course would become, and writes and emits nothing', async () => {
  const [a] = await newCourses(1);
  const before = await courses([a]);
  const batches = await rowCount('SELECT count(*) AS n FROM kit_batches');
  const { result, events } = await bed.events.act(() =>
    bed.api.courses.modifyCourseInformation({ batch: header(true), courseIds: [a, UNKNOWN_ID], provider: 'Dry' }),
  );
  expect(outcomes(result.result)).toEqual([
    [a, Outcome.OUTCOME_SUCCEEDED, ''],
    [UNKNOWN_ID, Outcome.OUTCOME_FAILED, 'NOT_FOUND'],
  ]);
  expect(await courses([a])).toEqual(before);
  expect(events).toEqual([]);
  expect(await rowCount('SELECT count(*) AS n FROM kit_batches')).toBe(batches);
});

it('a repeated idempotency key applies once and returns the recorded results', async () => {
  const ids = await newCourses(3);
  const request = { batch: header(), courseIds: ids, audienceIds: [audiences[0]] };
  const first = await bed.events.act(() => bed.api.courses.addCourseAudiences(request));
  const again = await bed.events.act(() => bed.api.courses.addCourseAudiences(request));
  expect(first.result.result!.replayed).toBe(false);
  expect(again.result.result).toEqual({ ...first.result.result, replayed: true });
  expect(subjects(first.events)).toEqual(Array(3).fill('catalog.course.updated.v1'));
  expect(again.events).toEqual([]);
  expect(await rowCount(`SELECT count(*) AS n FROM kit_batches WHERE idempotency_key = '${request.batch.idempotencyKey}'`)).toBe(1);
  // The same key with another request is refused.
  await expect(bed.api.courses.addCourseAudiences({ ...request, audienceIds: [audiences[1]] })).rejects.toMatchObject({
    code: 'FAILED_PRECONDITION',
    field: 'batch.idempotency_key',
  });
});

it('P1, P2 and P3 change curricula the same way', async () => {
  const [a, b] = await newCurricula(2);
  const p1 = await bed.events.act(() =>
    bed.api.curricula.modifyCurriculumInformation({ batch: header(), curriculumIds: [a, UNKNOWN_ID], disabled: true, freeText2: 'two' }),
  );
  expect(outcomes(p1.result.result)).toEqual([
    [a, Outcome.OUTCOME_SUCCEEDED, ''],
    [UNKNOWN_ID, Outcome.OUTCOME_FAILED, 'NOT_FOUND'],
  ]);
  expect(subjects(p1.events)).toEqual(['catalog.curriculum.updated.v1']);
  const [changed] = await curricula([a]);
  expect(Curriculum.fromJSON(p1.events[0].data)).toEqual(changed);
  expect(changed).toMatchObject({ disabled: true, freeText1: '', freeText2: 'two' });

  const p2 = await bed.api.curricula.modifyCurriculumCustomFields({ batch: header(), curriculumIds: [a, b], custom3: 'three' });
  expect(outcomes(p2.result)).toEqual([
    [a, Outcome.OUTCOME_SUCCEEDED, ''],
    [b, Outcome.OUTCOME_SUCCEEDED, ''],
  ]);
  const again = await bed.api.curricula.modifyCurriculumCustomFields({ batch: header(), curriculumIds: [a], custom3: 'three' });
  expect(outcomes(again.result)).toEqual([[a, Outcome.OUTCOME_UNCHANGED, 'ALREADY_SET']]);

  const p3 = await bed.api.curricula.addCurriculumAudiences({ batch: header(), curriculumIds: [b], audienceIds: [audiences[1]] });
  expect(outcomes(p3.result)).toEqual([[b, Outcome.OUTCOME_SUCCEEDED, '']]);
  expect((await curricula([b]))[0]).toMatchObject({ custom3: 'three', audienceIds: [audiences[1]] });
  await expect(
    bed.api.curricula.addCurriculumAudiences({ batch: header(true), curriculumIds: [], audienceIds: [UNKNOWN_ID] }),
  ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'audienceIds[0]' });
});

it('a scoped administrator cannot run a catalogue action, even a dry run', async () => {
  const { organisation } = await bed.fixture.api.organisations.createOrganisation({
    fields: { extId: 'SCOPED-ACTIONS', label: 'Scoped', parentId: ROOT_ORGANISATION_ID },
  });
  const scoped = await actorWithin(bed.fixture, [organisation!.id]);
  const [a] = await newCourses(1);
  for (const dryRun of [false, true]) {
    await expect(
      bed.as(scoped.id).courses.modifyCourseInformation({ batch: header(dryRun), courseIds: [a], disabled: true }),
    ).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    await expect(
      bed.as(scoped.id).curricula.modifyCurriculumInformation({ batch: header(dryRun), curriculumIds: [], disabled: true }),
    ).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
  }
  expect((await courses([a]))[0].disabled).toBe(false);
});

it('takes an audience deleted in identity off the courses and curricula that carried it', async () => {
  const { audience } = await bed.fixture.api.audiences.createAudience({ name: 'Short-lived', description: '' });
  const [course] = await newCourses(1);
  const [curriculum] = await newCurricula(1);
  await bed.api.courses.addCourseAudiences({ batch: header(), courseIds: [course], audienceIds: [audience!.id, audiences[0]] });
  await bed.api.curricula.addCurriculumAudiences({ batch: header(), curriculumIds: [curriculum], audienceIds: [audience!.id] });
  await bed.events.next();
  await bed.fixture.api.audiences.deleteAudience({ id: audience!.id });
  await bed.fixture.identity.flushEvents();
  const deadline = Date.now() + 10_000;
  while ((await courses([course]))[0].audienceIds.length > 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  expect((await courses([course]))[0].audienceIds).toEqual([audiences[0]]);
  expect((await curricula([curriculum]))[0].audienceIds).toEqual([]);
  expect(subjects(await bed.events.next()).sort()).toEqual(['catalog.course.updated.v1', 'catalog.curriculum.updated.v1']);
});
