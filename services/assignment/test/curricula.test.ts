import { AssignmentOption } from '@assistants/proto/gen/assignment/v1/common';
import {
  CertificateIssued,
  CourseAssignmentChanged,
  CurriculumAssignmentChanged,
  TutorAssigned,
} from '@assistants/proto/gen/assignment/v1/events';
import {
  actorWithin,
  dryRun,
  key,
  newAudience,
  newCourse,
  newCurriculum,
  newStaticList,
  newUser,
  rows,
  startAssignmentBed,
  subjects,
  UNKNOWN_ID,
  type AssignmentBed,
} from './helpers';

let bed: AssignmentBed;

beforeAll(async () => {
  bed = await startAssignmentBed('asgcurricula');
});

afterAll(async () => {
  await bed?.stop();
});

const values = (v: Record<string, unknown> = {}) => ({ option: AssignmentOption.ASSIGNMENT_OPTION_UNSPECIFIED, ...v });

async function courseRows(userId: string) {
  const { rows: stored } = await bed.assignment.db.query<{
    course_id: string;
    start_date: string | null;
    end_date: string | null;
    option: string;
    direct: boolean;
    via_curricula: string[];
  }>('SELECT course_id, start_date, end_date, option, direct, via_curricula FROM course_assignments WHERE user_id = $1', [userId]);
  return Object.fromEntries(stored.map((r) => [r.course_id, r]));
}

describe('U12 assign curricula', () => {
  it('assigns the curriculum and its courses; without carry-over the courses get no dates and option FREE', async () => {
    const ann = await newUser(bed);
    const [a, b] = [await newCourse(bed), await newCourse(bed)];
    const curriculum = await newCurriculum(bed, [a.id, b.id]);
    const { result, events } = await bed.events.act(() =>
      bed.api.assignments.assignCurricula({
        batch: key(),
        userIds: [ann],
        curriculumIds: [curriculum.id],
        values: values({ startDate: '2027-01-01', endDate: '2027-06-30', option: AssignmentOption.ASSIGNMENT_OPTION_MANDATORY }),
        ignoreAudiences: false,
        carryDatesToCourses: false,
        carryOptionToCourses: false,
        notifyTemplateId: 'curriculum-mail',
      }),
    );
    expect(rows(result.result)).toEqual([[ann, curriculum.id, 'SUCCEEDED', '']]);
    expect(subjects(events)).toEqual([
      'assignment.curriculum.assigned.v1',
      'assignment.course.assigned.v1',
      'assignment.course.assigned.v1',
    ]);
    const assigned = CurriculumAssignmentChanged.fromJSON(events[0].data);
    expect(assigned.notifyTemplateId).toBe('curriculum-mail');
    expect(assigned.curriculum!.code).toBe(curriculum.code);
    expect(assigned.assignment).toMatchObject({
      startDate: '2027-01-01',
      endDate: '2027-06-30',
      option: AssignmentOption.ASSIGNMENT_OPTION_MANDATORY,
    });
    const courseEvent = CourseAssignmentChanged.fromJSON(events[1].data);
    expect(courseEvent.curriculum!.id).toBe(curriculum.id);
    expect(courseEvent.notifyTemplateId).toBe('');
    const courses = await courseRows(ann);
    expect(courses[a.id]).toMatchObject({
      start_date: null,
      end_date: null,
      option: 'free',
      direct: false,
      via_curricula: [curriculum.id],
    });
    expect(courses[b.id]).toMatchObject({ start_date: null, option: 'free', via_curricula: [curriculum.id] });
  });

  it('carries the curriculum dates and option onto its courses, new and already assigned', async () => {
    const ann = await newUser(bed);
    const [a, b] = [await newCourse(bed), await newCourse(bed)];
    await bed.api.assignments.assignCourses({
      batch: key(),
      userIds: [ann],
      courseIds: [a.id],
      values: values({ startDate: '2026-01-01' }),
      ignoreAudiences: false,
      notifyTemplateId: '',
    });
    const curriculum = await newCurriculum(bed, [a.id, b.id]);
    const { events } = await bed.events.act(() =>
      bed.api.assignments.assignCurricula({
        batch: key(),
        userIds: [ann],
        curriculumIds: [curriculum.id],
        values: values({
          startDate: '2027-02-01',
          objectiveDate: '2027-03-01',
          endDate: '2027-04-01',
          option: AssignmentOption.ASSIGNMENT_OPTION_RECOMMENDED,
        }),
        ignoreAudiences: false,
        carryDatesToCourses: true,
        carryOptionToCourses: true,
        notifyTemplateId: '',
      }),
    );
    expect(subjects(events).sort()).toEqual(
      ['assignment.curriculum.assigned.v1', 'assignment.course.assigned.v1', 'assignment.course.updated.v1'].sort(),
    );
    const courses = await courseRows(ann);
    for (const id of [a.id, b.id]) {
      expect(courses[id]).toMatchObject({
        start_date: '2027-02-01',
        end_date: '2027-04-01',
        option: 'recommended',
        via_curricula: [curriculum.id],
      });
    }
    expect(courses[a.id].direct).toBe(true);
    expect(courses[b.id].direct).toBe(false);
  });

  it('applies the curriculum’s audiences (not its courses’) unless ignored, and fails a disabled curriculum', async () => {
    const audience = await newAudience(bed);
    const [member, other] = [await newUser(bed, {}, [audience]), await newUser(bed)];
    const course = await newCourse(bed, {}, [await newAudience(bed)]);
    const curriculum = await newCurriculum(bed, [course.id], { audienceIds: [audience] });
    const disabled = await newCurriculum(bed, [course.id], { disabled: true });
    const assign = (ignoreAudiences: boolean) =>
      bed.api.assignments.assignCurricula({
        batch: key(),
        userIds: [member, other],
        curriculumIds: [curriculum.id, disabled.id],
        values: values(),
        ignoreAudiences,
        carryDatesToCourses: false,
        carryOptionToCourses: false,
        notifyTemplateId: '',
      });
    expect(rows((await assign(false)).result)).toEqual([
      [member, curriculum.id, 'SUCCEEDED', ''],
      [member, disabled.id, 'FAILED', 'CURRICULUM_DISABLED'],
      [other, curriculum.id, 'FAILED', 'AUDIENCE_MISMATCH'],
      [other, disabled.id, 'FAILED', 'CURRICULUM_DISABLED'],
    ]);
    expect(Object.keys(await courseRows(member))).toEqual([course.id]);
    expect(rows((await assign(true)).result)).toEqual([
      [member, curriculum.id, 'UNCHANGED', 'ALREADY_ASSIGNED'],
      [member, disabled.id, 'FAILED', 'CURRICULUM_DISABLED'],
      [other, curriculum.id, 'SUCCEEDED', ''],
      [other, disabled.id, 'FAILED', 'CURRICULUM_DISABLED'],
    ]);
  });

  it('refuses an unknown curriculum or payment fields, naming the field', async () => {
    const ann = await newUser(bed);
    const curriculum = await newCurriculum(bed, []);
    const request = {
      batch: dryRun(),
      userIds: [ann],
      curriculumIds: [curriculum.id],
      values: values(),
      ignoreAudiences: false,
      carryDatesToCourses: false,
      carryOptionToCourses: false,
      notifyTemplateId: '',
    };
    expect((await bed.events.refused(() => bed.api.assignments.assignCurricula({ ...request, curriculumIds: [UNKNOWN_ID] }))).field).toBe(
      'curriculumIds[0]',
    );
    expect(
      (await bed.events.refused(() => bed.api.assignments.assignCurricula({ ...request, values: values({ paymentCode: 'X' }) }))).field,
    ).toBe('paymentCode');
  });
});

describe('U13 modify curriculum assignment data', () => {
  it('changes the curriculum assignment and, with carry-over, its courses’ dates', async () => {
    const [ann, bob] = [await newUser(bed), await newUser(bed)];
    const [a, b] = [await newCourse(bed), await newCourse(bed)];
    const curriculum = await newCurriculum(bed, [a.id, b.id]);
    await bed.api.assignments.assignCurricula({
      batch: key(),
      userIds: [ann],
      curriculumIds: [curriculum.id],
      values: values({ startDate: '2027-01-01', endDate: '2027-06-30' }),
      ignoreAudiences: false,
      carryDatesToCourses: true,
      carryOptionToCourses: false,
      notifyTemplateId: '',
    });
    const { result, events } = await bed.events.act(() =>
      bed.api.assignments.updateCurriculumAssignments({
        batch: key(),
        userIds: [ann, bob],
        curriculumIds: [curriculum.id],
        values: values({ endDate: '2027-09-30' }),
        carryDatesToCourses: true,
        carryOptionToCourses: false,
        notifyTemplateId: 'moved',
      }),
    );
    expect(rows(result.result)).toEqual([
      [ann, curriculum.id, 'SUCCEEDED', ''],
      [bob, curriculum.id, 'FAILED', 'NOT_ASSIGNED'],
    ]);
    expect(subjects(events)).toEqual(['assignment.curriculum.updated.v1', 'assignment.course.updated.v1', 'assignment.course.updated.v1']);
    expect(CurriculumAssignmentChanged.fromJSON(events[0].data).changedFields).toEqual(['end_date']);
    const courses = await courseRows(ann);
    expect(courses[a.id]).toMatchObject({ start_date: '2027-01-01', end_date: '2027-09-30' });
    expect(courses[b.id]).toMatchObject({ start_date: '2027-01-01', end_date: '2027-09-30' });

    // Without carry-over the courses keep their dates.
    await bed.api.assignments.updateCurriculumAssignments({
      batch: key(),
      userIds: [ann],
      curriculumIds: [curriculum.id],
      values: values({ endDate: '2027-12-31' }),
      carryDatesToCourses: false,
      carryOptionToCourses: false,
      notifyTemplateId: '',
    });
    expect((await courseRows(ann))[a.id].end_date).toBe('2027-09-30');
    const again = await bed.api.assignments.updateCurriculumAssignments({
      batch: key(),
      userIds: [ann],
      curriculumIds: [curriculum.id],
      values: values({ endDate: '2027-12-31' }),
      carryDatesToCourses: false,
      carryOptionToCourses: false,
      notifyTemplateId: '',
    });
    expect(rows(again.result)).toEqual([[ann, curriculum.id, 'UNCHANGED', 'NO_CHANGE']]);
  });
});

describe('U15 remove curricula', () => {
  it('removes the curriculum and, when asked, only the course assignments that came with it alone', async () => {
    const ann = await newUser(bed);
    const [onlyHere, direct, shared] = [await newCourse(bed), await newCourse(bed), await newCourse(bed)];
    const curriculum = await newCurriculum(bed, [onlyHere.id, direct.id, shared.id]);
    const other = await newCurriculum(bed, [shared.id]);
    await bed.api.assignments.assignCourses({
      batch: key(),
      userIds: [ann],
      courseIds: [direct.id],
      values: values(),
      ignoreAudiences: false,
      notifyTemplateId: '',
    });
    await bed.api.assignments.assignCurricula({
      batch: key(),
      userIds: [ann],
      curriculumIds: [curriculum.id, other.id],
      values: values(),
      ignoreAudiences: false,
      carryDatesToCourses: false,
      carryOptionToCourses: false,
      notifyTemplateId: '',
    });
    const { result, events } = await bed.events.act(() =>
      bed.api.assignments.removeCurriculumAssignments({
        batch: key(),
        userIds: [ann],
        curriculumIds: [curriculum.id],
        removeCourses: true,
        notifyTemplateId: 'gone',
      }),
    );
    expect(rows(result.result)).toEqual([[ann, curriculum.id, 'SUCCEEDED', '']]);
    expect(subjects(events)).toEqual(['assignment.curriculum.removed.v1', 'assignment.course.removed.v1']);
    expect(CourseAssignmentChanged.fromJSON(events[1].data).course!.id).toBe(onlyHere.id);
    const courses = await courseRows(ann);
    expect(Object.keys(courses).sort()).toEqual([direct.id, shared.id].sort());
    expect(courses[direct.id]).toMatchObject({ direct: true, via_curricula: [] });
    expect(courses[shared.id]).toMatchObject({ direct: false, via_curricula: [other.id] });

    // Without removeCourses the courses stay, as the user's own.
    const { events: kept } = await bed.events.act(() =>
      bed.api.assignments.removeCurriculumAssignments({
        batch: key(),
        userIds: [ann],
        curriculumIds: [other.id],
        removeCourses: false,
        notifyTemplateId: '',
      }),
    );
    expect(subjects(kept)).toEqual(['assignment.curriculum.removed.v1']);
    expect((await courseRows(ann))[shared.id]).toMatchObject({ direct: true, via_curricula: [] });
    const missing = await bed.api.assignments.removeCurriculumAssignments({
      batch: key(),
      userIds: [ann],
      curriculumIds: [other.id],
      removeCourses: true,
      notifyTemplateId: '',
    });
    expect(rows(missing.result)).toEqual([[ann, other.id, 'FAILED', 'NOT_ASSIGNED']]);
  });
});

describe('U11 reset certificates', () => {
  it('issues again with the course’s current template; a user without a certificate is unchanged', async () => {
    const [ann, bob] = [await newUser(bed), await newUser(bed)];
    const course = await newCourse(bed, { certificateTemplateId: 'template-v1' });
    await bed.api.certificates.issueCertificates({ batch: key(), userIds: [ann], courseIds: [course.id], notifyTemplateId: '' });
    await bed.catalogApi.courses.updateCourse({
      id: course.id,
      fields: { certificateTemplateId: 'template-v2' },
      replaceAudiences: false,
      audienceIds: [],
    });
    const { result, events } = await bed.events.act(() =>
      bed.api.certificates.reissueCertificates({
        batch: key(),
        userIds: [ann, bob],
        courseIds: [course.id],
        notifyTemplateId: 'new-certificate',
      }),
    );
    expect(rows(result.result)).toEqual([
      [ann, course.id, 'SUCCEEDED', ''],
      [bob, course.id, 'UNCHANGED', 'NO_CERTIFICATE'],
    ]);
    expect(subjects(events)).toEqual(['assignment.certificate.issued.v1']);
    const issued = CertificateIssued.fromJSON(events[0].data);
    expect(issued).toMatchObject({ reissued: true, previousTemplateId: 'template-v1', notifyTemplateId: 'new-certificate' });
    expect(issued.certificate).toMatchObject({ templateId: 'template-v2', reissueCount: 1 });
    const { certificates } = await bed.api.assignments.listUserAssignments({ userId: ann });
    expect(certificates).toEqual([expect.objectContaining({ courseId: course.id, templateId: 'template-v2', reissueCount: 1 })]);
  });

  it('refuses a course without a certificate template', async () => {
    const ann = await newUser(bed);
    const course = await newCourse(bed);
    const err = await bed.events.refused(() =>
      bed.api.certificates.reissueCertificates({ batch: dryRun(), userIds: [ann], courseIds: [course.id], notifyTemplateId: '' }),
    );
    expect(err.field).toBe('courseIds[0]');
  });
});

describe('U6 tutors', () => {
  it('makes users tutors of courses for a list’s learners, within the scope', async () => {
    const learner = await newUser(bed);
    // Owned by north: a scoped administrator sees only lists owned within its scope.
    const list = await newStaticList(bed, [learner], bed.org.north);
    const tutor = await newUser(bed, { organisationId: bed.org.lille });
    const outside = await newUser(bed, { organisationId: bed.org.south });
    const [a, b] = [await newCourse(bed), await newCourse(bed)];
    const scoped = await actorWithin(bed, [bed.org.north], ['tutors:write', 'lists:read', 'users:read']);
    const assign = () =>
      bed.as(scoped).tutors.assignTutors({ batch: key(), userIds: [tutor, outside], courseIds: [a.id, b.id], listId: list });
    const { result, events } = await bed.events.act(assign);
    expect(rows(result.result)).toEqual([
      [tutor, a.id, 'SUCCEEDED', ''],
      [tutor, b.id, 'SUCCEEDED', ''],
      [outside, a.id, 'FAILED', 'OUT_OF_SCOPE'],
      [outside, b.id, 'FAILED', 'OUT_OF_SCOPE'],
    ]);
    expect(subjects(events)).toEqual(['assignment.tutor.assigned.v1', 'assignment.tutor.assigned.v1']);
    expect(TutorAssigned.fromJSON(events[0].data).tutorship).toMatchObject({ tutorId: tutor, listId: list });
    expect(rows((await assign()).result).slice(0, 2)).toEqual([
      [tutor, a.id, 'UNCHANGED', 'ALREADY_TUTOR'],
      [tutor, b.id, 'UNCHANGED', 'ALREADY_TUTOR'],
    ]);
    const { tutorships } = await bed.api.assignments.listUserAssignments({ userId: tutor });
    expect(tutorships.map((t) => t.courseId).sort()).toEqual([a.id, b.id].sort());
    const err = await bed.events.refused(() =>
      bed.api.tutors.assignTutors({ batch: dryRun(), userIds: [], courseIds: [a.id], listId: UNKNOWN_ID }),
    );
    expect(err.field).toBe('listId');
  });
});
