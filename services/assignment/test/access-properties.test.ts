import { AssignmentOption, DatesMode, ObjectType, type AccessEnrolment } from '@assistants/proto/gen/assignment/v1/common';
import { AccessPropertyAdded, CourseAssignmentChanged, VisibilityChanged } from '@assistants/proto/gen/assignment/v1/events';
import {
  actorWithin,
  dryRun,
  key,
  newCourse,
  newCurriculum,
  newStaticList,
  newUser,
  rows,
  startAssignmentBed,
  subjects,
  UNKNOWN_ID,
  waitFor,
  type AssignmentBed,
} from './helpers';

let bed: AssignmentBed;

beforeAll(async () => {
  bed = await startAssignmentBed('asgaccess');
});

afterAll(async () => {
  await bed?.stop();
});

const enrolment = (e: Partial<AccessEnrolment>): AccessEnrolment => ({
  option: AssignmentOption.ASSIGNMENT_OPTION_UNSPECIFIED,
  datesMode: DatesMode.DATES_MODE_UNSPECIFIED,
  startDate: '',
  objectiveDate: '',
  endDate: '',
  effectiveImmediately: false,
  applyOptionToCourses: false,
  carryDatesToCourses: false,
  ...e,
});

type Row = {
  start_date: string | null;
  objective_date: string | null;
  end_date: string | null;
  option: string;
  via_access_properties: string[];
};

async function courseAssignment(userId: string, courseId: string): Promise<Row | undefined> {
  const { rows: found } = await bed.assignment.db.query<Row>(
    'SELECT start_date, objective_date, end_date, option, via_access_properties FROM course_assignments WHERE user_id = $1 AND course_id = $2',
    [userId, courseId],
  );
  return found[0];
}

/** Makes identity say the user entered the list on that day (as if long ago). */
async function enteredOn(listId: string, userId: string, instant: string) {
  await bed.fixture.identity.db.query('UPDATE list_members SET entered_at = $3 WHERE list_id = $1 AND user_id = $2', [
    listId,
    userId,
    instant,
  ]);
}

const today = () => new Date().toISOString().slice(0, 10);
const plusDays = (day: string, n: number) => {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
};

/** Adds users to a static list through identity, and waits until the assignment service
 * handled identity's events (its consumer). */
async function joinList(listId: string, userIds: string[], until: () => Promise<unknown>) {
  await bed.identity.lists.addListMembers({ listId, userIds });
  await bed.fixture.identity.flushEvents();
  await waitFor('the list entry to be handled', until);
}

describe('C5 add access property to courses', () => {
  it('enrols the list’s members now (without the dates unless effective immediately), later entrants with the dates, and restricts visibility to members', async () => {
    const [ann, bob] = [await newUser(bed), await newUser(bed)];
    const list = await newStaticList(bed, [ann]);
    const course = await newCourse(bed);
    const { result, events } = await bed.events.act(() =>
      bed.api.access.addCourseAccessProperties({
        batch: key(),
        courseIds: [course.id],
        listIds: [list],
        restrictVisibility: true,
        enrol: true,
        enrolment: enrolment({
          option: AssignmentOption.ASSIGNMENT_OPTION_MANDATORY,
          datesMode: DatesMode.DATES_MODE_FIXED,
          startDate: '2027-03-01',
          endDate: '2027-05-31',
        }),
      }),
    );
    expect(rows(result.result)).toEqual([[course.id, list, 'SUCCEEDED', '']]);
    expect(subjects(events)).toEqual([
      'assignment.access-property.added.v1',
      'assignment.visibility.changed.v1',
      'assignment.course.assigned.v1',
    ]);
    const added = AccessPropertyAdded.fromJSON(events[0].data);
    expect(added).toMatchObject({ created: true, object: { id: course.id, code: course.code, name: course.name } });
    expect(events[0].subject).toBe('assignment.access-property.added.v1');
    expect(VisibilityChanged.fromJSON(events[1].data)).toMatchObject({ userId: ann, objectId: course.id, visible: true, listId: list });
    const propertyId = added.accessProperty!.id;
    expect(await courseAssignment(ann, course.id)).toEqual({
      start_date: null,
      objective_date: null,
      end_date: null,
      option: 'mandatory',
      via_access_properties: [propertyId],
    });

    // Bob enters the list later: identity's event enrols him with the dates, and he sees the course.
    await joinList(list, [bob], () => courseAssignment(bob, course.id));
    expect(await courseAssignment(bob, course.id)).toMatchObject({ start_date: '2027-03-01', end_date: '2027-05-31', option: 'mandatory' });
    const joined = await bed.events.next();
    expect(subjects(joined).sort()).toEqual(['assignment.course.assigned.v1', 'assignment.visibility.changed.v1']);
    expect(CourseAssignmentChanged.fromJSON(joined.find((e) => e.subject === 'assignment.course.assigned.v1')!.data).accessPropertyId).toBe(
      propertyId,
    );
    const outsider = await newUser(bed);
    const visibility = (userId: string) => bed.api.access.getVisibility({ userId, courseIds: [course.id], curriculumIds: [] });
    expect((await visibility(bob)).visibleCourseIds).toEqual([course.id]);
    expect((await visibility(outsider)).visibleCourseIds).toEqual([]);

    // Leaving the list takes the visibility back; the assignment stays.
    await bed.identity.lists.removeListMembers({ listId: list, userIds: [bob] });
    await bed.fixture.identity.flushEvents();
    await waitFor('the exit to be handled', async () => (await visibility(bob)).visibleCourseIds.length === 0);
    const left = await bed.events.next();
    expect(subjects(left)).toEqual(['assignment.visibility.changed.v1']);
    expect(VisibilityChanged.fromJSON(left[0].data)).toMatchObject({ userId: bob, visible: false });
    expect(await courseAssignment(bob, course.id)).toBeDefined();

    const { accessProperties } = await bed.api.access.listAccessProperties({
      objectType: ObjectType.OBJECT_TYPE_COURSE,
      objectId: course.id,
    });
    expect(accessProperties).toEqual([expect.objectContaining({ id: propertyId, listId: list, restrictVisibility: true, enrol: true })]);
  });

  it('counts relative dates from the day each member entered the list; effective immediately gives them to members already there', async () => {
    const [ann, bob, carl] = [await newUser(bed), await newUser(bed), await newUser(bed)];
    const list = await newStaticList(bed, [ann, bob]);
    await enteredOn(list, ann, '2027-01-10T08:00:00Z');
    await enteredOn(list, bob, '2027-02-20T23:30:00Z');
    const course = await newCourse(bed);
    // Bob already has the course, with other dates: effective immediately gives him the new ones.
    await bed.api.assignments.assignCourses({
      batch: key(),
      userIds: [bob],
      courseIds: [course.id],
      values: { option: AssignmentOption.ASSIGNMENT_OPTION_FREE, startDate: '2026-01-01' },
      ignoreAudiences: true,
      notifyTemplateId: '',
    });
    const { result, events } = await bed.events.act(() =>
      bed.api.access.addCourseAccessProperties({
        batch: key(),
        courseIds: [course.id],
        listIds: [list],
        restrictVisibility: false,
        enrol: true,
        enrolment: enrolment({
          datesMode: DatesMode.DATES_MODE_RELATIVE,
          startDelayDays: 0,
          objectiveDelayDays: 15,
          endDelayDays: 30,
          effectiveImmediately: true,
        }),
      }),
    );
    expect(rows(result.result)).toEqual([[course.id, list, 'SUCCEEDED', '']]);
    expect(result.result!.results[0].message).toBe('1 enrolled, 1 assignment(s) given the dates');
    expect(subjects(events).sort()).toEqual(
      ['assignment.access-property.added.v1', 'assignment.course.assigned.v1', 'assignment.course.updated.v1'].sort(),
    );
    expect(await courseAssignment(ann, course.id)).toMatchObject({
      start_date: '2027-01-10',
      objective_date: '2027-01-25',
      end_date: '2027-02-09',
    });
    expect(await courseAssignment(bob, course.id)).toMatchObject({
      start_date: '2027-02-20',
      objective_date: '2027-03-07',
      end_date: '2027-03-22',
      option: 'free',
    });

    // Carl enters now: his dates count from today.
    await joinList(list, [carl], () => courseAssignment(carl, course.id));
    expect(await courseAssignment(carl, course.id)).toMatchObject({
      start_date: today(),
      objective_date: plusDays(today(), 15),
      end_date: plusDays(today(), 30),
      option: 'free',
    });
  });

  it('fails unknown and disabled courses per list, and refuses parameters at fault', async () => {
    const list = await newStaticList(bed, []);
    const [open, disabled] = [await newCourse(bed), await newCourse(bed, { disabled: true })];
    const { result } = await bed.api.access.addCourseAccessProperties({
      batch: key(),
      courseIds: [open.id, disabled.id, UNKNOWN_ID],
      listIds: [list],
      restrictVisibility: false,
      enrol: true,
      enrolment: enrolment({}),
    });
    expect(rows(result)).toEqual([
      [open.id, list, 'SUCCEEDED', ''],
      [disabled.id, list, 'FAILED', 'COURSE_DISABLED'],
      [UNKNOWN_ID, list, 'FAILED', 'NOT_FOUND'],
    ]);
    const refused = async (request: Record<string, unknown>) =>
      (
        await bed.events.refused(() =>
          bed.api.access.addCourseAccessProperties({
            batch: dryRun(),
            courseIds: [],
            listIds: [list],
            restrictVisibility: false,
            enrol: true,
            enrolment: enrolment({}),
            ...request,
          }),
        )
      ).field;
    expect(await refused({ listIds: [list, UNKNOWN_ID] })).toBe('listIds[1]');
    expect(await refused({ enrolment: enrolment({ datesMode: DatesMode.DATES_MODE_RELATIVE, startDelayDays: 10, endDelayDays: 5 }) })).toBe(
      'endDelayDays',
    );
    expect(
      await refused({ enrolment: enrolment({ datesMode: DatesMode.DATES_MODE_FIXED, startDate: '2027-05-01', endDate: '2027-01-01' }) }),
    ).toBe('endDate');
    expect(await refused({ enrol: false })).toBe('restrictVisibility');
    expect(await refused({ enrolment: enrolment({ carryDatesToCourses: true }) })).toBe('carryDatesToCourses');
  });

  it('is for administrators of the root only', async () => {
    const list = await newStaticList(bed, []);
    const course = await newCourse(bed);
    const scoped = await actorWithin(bed, [bed.org.north]);
    const err = await bed.events.refused(() =>
      bed.as(scoped).access.addCourseAccessProperties({
        batch: key(),
        courseIds: [course.id],
        listIds: [list],
        restrictVisibility: true,
        enrol: false,
        enrolment: undefined,
      }),
    );
    expect(err.code).toBe('PERMISSION_DENIED');
  });
});

describe('P4 add access property to curricula', () => {
  it('enrols members in the curriculum and its courses, with the option and dates carried onto the courses, now and on entry', async () => {
    const [ann, bob] = [await newUser(bed), await newUser(bed)];
    const list = await newStaticList(bed, [ann]);
    await enteredOn(list, ann, '2027-04-01T12:00:00Z');
    const [a, b] = [await newCourse(bed), await newCourse(bed)];
    const curriculum = await newCurriculum(bed, [a.id, b.id]);
    const { result, events } = await bed.events.act(() =>
      bed.api.access.addCurriculumAccessProperties({
        batch: key(),
        curriculumIds: [curriculum.id],
        listId: list,
        restrictVisibility: true,
        enrol: true,
        enrolment: enrolment({
          option: AssignmentOption.ASSIGNMENT_OPTION_RECOMMENDED,
          datesMode: DatesMode.DATES_MODE_RELATIVE,
          startDelayDays: 1,
          endDelayDays: 60,
          effectiveImmediately: true,
          applyOptionToCourses: true,
          carryDatesToCourses: true,
        }),
      }),
    );
    expect(rows(result.result)).toEqual([[curriculum.id, list, 'SUCCEEDED', '']]);
    expect(subjects(events)).toEqual([
      'assignment.access-property.added.v1',
      'assignment.visibility.changed.v1',
      'assignment.curriculum.assigned.v1',
      'assignment.course.assigned.v1',
      'assignment.course.assigned.v1',
    ]);
    const { rows: curricula } = await bed.assignment.db.query(
      'SELECT start_date, end_date, option, direct FROM curriculum_assignments WHERE user_id = $1 AND curriculum_id = $2',
      [ann, curriculum.id],
    );
    expect(curricula).toEqual([{ start_date: '2027-04-02', end_date: '2027-05-31', option: 'recommended', direct: false }]);
    for (const course of [a, b]) {
      expect(await courseAssignment(ann, course.id)).toMatchObject({
        start_date: '2027-04-02',
        end_date: '2027-05-31',
        option: 'recommended',
      });
    }
    await joinList(list, [bob], () => courseAssignment(bob, b.id));
    expect(await courseAssignment(bob, a.id)).toMatchObject({
      start_date: plusDays(today(), 1),
      end_date: plusDays(today(), 60),
      option: 'recommended',
    });
    expect(
      (await bed.api.access.getVisibility({ userId: bob, courseIds: [], curriculumIds: [curriculum.id] })).visibleCurriculumIds,
    ).toEqual([curriculum.id]);
  });
});
