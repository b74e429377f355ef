import { AssignmentOption, PaymentMode } from '@assistants/proto/gen/assignment/v1/common';
import { CourseAssignmentChanged } from '@assistants/proto/gen/assignment/v1/events';
import {
  actorWithin,
  dryRun,
  key,
  newAudience,
  newCourse,
  newUser,
  rows,
  startAssignmentBed,
  subjects,
  UNKNOWN_ID,
  type AssignmentBed,
} from './helpers';

let bed: AssignmentBed;

beforeAll(async () => {
  bed = await startAssignmentBed('asgcourses');
});

afterAll(async () => {
  await bed?.stop();
});

const count = async (sql: string, params: unknown[] = []) => Number((await bed.assignment.db.query<{ n: string }>(sql, params)).rows[0].n);

const values = (v: Record<string, unknown> = {}) => ({ option: AssignmentOption.ASSIGNMENT_OPTION_UNSPECIFIED, ...v });

describe('U7 assign courses', () => {
  it('assigns each course to each user with the dates, payment and option, one event per assignment with what a mail needs', async () => {
    const [ann, bob] = [await newUser(bed), await newUser(bed)];
    const [a, b] = [await newCourse(bed), await newCourse(bed)];
    const { result, events, correlationId } = await bed.events.act(() =>
      bed.api.assignments.assignCourses({
        batch: key(),
        userIds: [ann, bob],
        courseIds: [a.id, b.id],
        values: values({
          startDate: '2027-01-10',
          objectiveDate: '2027-02-01',
          endDate: '2027-03-01',
          option: AssignmentOption.ASSIGNMENT_OPTION_MANDATORY,
          paymentMode: PaymentMode.PAYMENT_MODE_BY_HOUR,
          paymentCode: 'PO-42',
          unitCost: '12.5',
        }),
        ignoreAudiences: false,
        notifyTemplateId: 'welcome-course',
      }),
    );
    expect(rows(result.result)).toEqual([
      [ann, a.id, 'SUCCEEDED', ''],
      [ann, b.id, 'SUCCEEDED', ''],
      [bob, a.id, 'SUCCEEDED', ''],
      [bob, b.id, 'SUCCEEDED', ''],
    ]);
    const { rows: stored } = await bed.assignment.db.query(
      `SELECT user_id, course_id, start_date, objective_date, end_date, option, payment_mode, payment_code, unit_cost::text, direct
         FROM course_assignments WHERE user_id = ANY($1) ORDER BY user_id, course_id`,
      [[ann, bob]],
    );
    expect(stored).toHaveLength(4);
    for (const row of stored) {
      expect(row).toMatchObject({
        start_date: '2027-01-10',
        objective_date: '2027-02-01',
        end_date: '2027-03-01',
        option: 'mandatory',
        payment_mode: 'by_hour',
        payment_code: 'PO-42',
        unit_cost: '12.50',
        direct: true,
      });
    }
    expect(subjects(events)).toEqual(Array(4).fill('assignment.course.assigned.v1'));
    expect(events.every((e) => e.correlationId === correlationId)).toBe(true);
    const first = CourseAssignmentChanged.fromJSON(events.find((e) => (e.data as { learner: { id: string } }).learner.id === ann)!.data);
    expect(first.notifyTemplateId).toBe('welcome-course');
    expect(first.learner).toMatchObject({ id: ann, firstName: 'Test', title: 'Mme', language: 'fr-FR', organisationName: 'north' });
    expect(first.learner!.email).toMatch(/@example\.org$/);
    expect(first.course).toEqual({ id: expect.any(String), code: expect.stringMatching(/^CRS-/), name: expect.stringMatching(/^Course /) });
    expect(first.assignment).toMatchObject({
      startDate: '2027-01-10',
      option: AssignmentOption.ASSIGNMENT_OPTION_MANDATORY,
      paymentMode: PaymentMode.PAYMENT_MODE_BY_HOUR,
      unitCost: '12.50',
      direct: true,
    });
  });

  it('leaves an assigned course as it is (ALREADY_ASSIGNED) and fails unknown users, each per course', async () => {
    const ann = await newUser(bed);
    const course = await newCourse(bed);
    const assign = (userIds: string[]) =>
      bed.api.assignments.assignCourses({
        batch: key(),
        userIds,
        courseIds: [course.id],
        values: values(),
        ignoreAudiences: false,
        notifyTemplateId: '',
      });
    await assign([ann]);
    const { result, events } = await bed.events.act(() => assign([ann, UNKNOWN_ID, 'not-an-id']));
    expect(rows(result.result)).toEqual([
      [ann, course.id, 'UNCHANGED', 'ALREADY_ASSIGNED'],
      [UNKNOWN_ID, course.id, 'FAILED', 'NOT_FOUND'],
      ['not-an-id', course.id, 'FAILED', 'NOT_FOUND'],
    ]);
    expect(events).toEqual([]);
  });

  it('applies the audience rule unless the action ignores audiences', async () => {
    const [sales, tech] = [await newAudience(bed), await newAudience(bed)];
    const seller = await newUser(bed, {}, [sales]);
    const engineer = await newUser(bed, {}, [tech]);
    const nobody = await newUser(bed);
    const course = await newCourse(bed, {}, [sales]);
    const assign = (ignoreAudiences: boolean) =>
      bed.api.assignments.assignCourses({
        batch: key(),
        userIds: [seller, engineer, nobody],
        courseIds: [course.id],
        values: values(),
        ignoreAudiences,
        notifyTemplateId: '',
      });
    expect(rows((await assign(false)).result)).toEqual([
      [seller, course.id, 'SUCCEEDED', ''],
      [engineer, course.id, 'FAILED', 'AUDIENCE_MISMATCH'],
      [nobody, course.id, 'FAILED', 'AUDIENCE_MISMATCH'],
    ]);
    expect(rows((await assign(true)).result)).toEqual([
      [seller, course.id, 'UNCHANGED', 'ALREADY_ASSIGNED'],
      [engineer, course.id, 'SUCCEEDED', ''],
      [nobody, course.id, 'SUCCEEDED', ''],
    ]);
  });

  it('fails a disabled course for every user', async () => {
    const ann = await newUser(bed);
    const course = await newCourse(bed, { disabled: true });
    const { result } = await bed.api.assignments.assignCourses({
      batch: key(),
      userIds: [ann],
      courseIds: [course.id],
      values: values(),
      ignoreAudiences: true,
      notifyTemplateId: '',
    });
    expect(rows(result)).toEqual([[ann, course.id, 'FAILED', 'COURSE_DISABLED']]);
    expect(await count('SELECT count(*) AS n FROM course_assignments WHERE user_id = $1', [ann])).toBe(0);
  });

  it('refuses parameters at fault before any item, naming the field', async () => {
    const ann = await newUser(bed);
    const course = await newCourse(bed);
    const refused = async (request: Partial<Parameters<typeof bed.api.assignments.assignCourses>[0]>) => {
      const err = await bed.events.refused(() =>
        bed.api.assignments.assignCourses({
          batch: dryRun(),
          userIds: [ann],
          courseIds: [course.id],
          values: values(),
          ignoreAudiences: false,
          notifyTemplateId: '',
          ...request,
        }),
      );
      expect(err.code).toBe('INVALID_ARGUMENT');
      return err.field;
    };
    expect(await refused({ courseIds: [course.id, UNKNOWN_ID] })).toBe('courseIds[1]');
    expect(await refused({ courseIds: [] })).toBe('courseIds');
    expect(await refused({ values: values({ startDate: '2027-05-01', endDate: '2027-04-01' }) })).toBe('endDate');
    expect(await refused({ values: values({ startDate: '2027-05-01', objectiveDate: '2027-04-01' }) })).toBe('objectiveDate');
    expect(await refused({ values: values({ endDate: '2027-02-30' }) })).toBe('endDate');
    expect(await refused({ values: values({ unitCost: '-3' }) })).toBe('unitCost');
    // The run engine validates with no items and a dry run: the same refusal.
    expect(await refused({ userIds: [], courseIds: [UNKNOWN_ID] })).toBe('courseIds[0]');
    expect(await count('SELECT count(*) AS n FROM course_assignments WHERE user_id = $1', [ann])).toBe(0);
  });

  it('applies a repeated idempotency key once: same results, no second row or event', async () => {
    const [ann, bob] = [await newUser(bed), await newUser(bed)];
    const course = await newCourse(bed);
    const request = {
      batch: key(),
      userIds: [ann, bob],
      courseIds: [course.id],
      values: values(),
      ignoreAudiences: false,
      notifyTemplateId: '',
    };
    const first = await bed.events.act(() => bed.api.assignments.assignCourses(request));
    const again = await bed.events.act(() => bed.api.assignments.assignCourses(request));
    expect(again.result.result!.replayed).toBe(true);
    expect(rows(again.result.result)).toEqual(rows(first.result.result));
    expect(rows(first.result.result).map((r) => r[2])).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(first.events).toHaveLength(2);
    expect(again.events).toEqual([]);
    expect(await count('SELECT count(*) AS n FROM course_assignments WHERE course_id = $1', [course.id])).toBe(2);
    // The same key for another request is refused rather than answered with the wrong results.
    const err = await bed.events.refused(() => bed.api.assignments.assignCourses({ ...request, userIds: [ann] }));
    expect(err.code).toBe('FAILED_PRECONDITION');
  });

  it('answers a dry run with what would happen, writing and emitting nothing', async () => {
    const ann = await newUser(bed);
    const course = await newCourse(bed);
    const { result, events } = await bed.events.act(() =>
      bed.api.assignments.assignCourses({
        batch: dryRun(),
        userIds: [ann],
        courseIds: [course.id],
        values: values(),
        ignoreAudiences: false,
        notifyTemplateId: 'x',
      }),
    );
    expect(rows(result.result)).toEqual([[ann, course.id, 'SUCCEEDED', '']]);
    expect(events).toEqual([]);
    expect(await count('SELECT count(*) AS n FROM course_assignments WHERE user_id = $1', [ann])).toBe(0);
  });

  it('never touches a user outside the scoped administrator’s organisations', async () => {
    const inside = await newUser(bed, { organisationId: bed.org.lille });
    const outside = await newUser(bed, { organisationId: bed.org.south });
    const course = await newCourse(bed);
    const scoped = await actorWithin(bed, [bed.org.north], ['assignments:write', 'assignments:read']);
    const { result, events } = await bed.events.act(() =>
      bed.as(scoped).assignments.assignCourses({
        batch: key(),
        userIds: [inside, outside],
        courseIds: [course.id],
        values: values(),
        ignoreAudiences: false,
        notifyTemplateId: '',
      }),
    );
    expect(rows(result.result)).toEqual([
      [inside, course.id, 'SUCCEEDED', ''],
      [outside, course.id, 'FAILED', 'OUT_OF_SCOPE'],
    ]);
    expect(events).toHaveLength(1);
    expect(await count('SELECT count(*) AS n FROM course_assignments WHERE user_id = $1', [outside])).toBe(0);
    // Nor may it read the outside user's assignments, nor a whole course's.
    expect((await bed.events.refused(() => bed.as(scoped).assignments.listUserAssignments({ userId: outside }))).code).toBe('NOT_FOUND');
    expect((await bed.as(scoped).assignments.listUserAssignments({ userId: inside })).courseAssignments).toHaveLength(1);
    expect(
      (await bed.events.refused(() => bed.as(scoped).assignments.listCourseAssignments({ courseId: course.id, page: undefined }))).code,
    ).toBe('PERMISSION_DENIED');
    // Without assignments:write anywhere, the batch is refused as a whole.
    const reader = await actorWithin(bed, [bed.org.north], ['assignments:read']);
    const err = await bed.events.refused(() =>
      bed.as(reader).assignments.assignCourses({
        batch: key(),
        userIds: [inside],
        courseIds: [course.id],
        values: values(),
        ignoreAudiences: false,
        notifyTemplateId: '',
      }),
    );
    expect(err.code).toBe('PERMISSION_DENIED');
  });
});

describe('U8 modify course assignment data', () => {
  it('changes only the fields given, reports unchanged and not assigned, and refuses a change that puts dates out of order', async () => {
    const [ann, bob, eve] = [await newUser(bed), await newUser(bed), await newUser(bed)];
    const course = await newCourse(bed);
    await bed.api.assignments.assignCourses({
      batch: key(),
      userIds: [ann, bob],
      courseIds: [course.id],
      values: values({ startDate: '2027-01-01', endDate: '2027-06-30', paymentCode: 'A' }),
      ignoreAudiences: false,
      notifyTemplateId: '',
    });
    await bed.api.assignments.updateCourseAssignments({
      batch: key(),
      userIds: [bob],
      courseIds: [course.id],
      values: values({ endDate: '2027-12-31', option: AssignmentOption.ASSIGNMENT_OPTION_RECOMMENDED }),
      notifyTemplateId: '',
    });
    const { result, events } = await bed.events.act(() =>
      bed.api.assignments.updateCourseAssignments({
        batch: key(),
        userIds: [ann, bob, eve],
        courseIds: [course.id],
        values: values({ endDate: '2027-12-31', option: AssignmentOption.ASSIGNMENT_OPTION_RECOMMENDED }),
        notifyTemplateId: 'changed',
      }),
    );
    expect(rows(result.result)).toEqual([
      [ann, course.id, 'SUCCEEDED', ''],
      [bob, course.id, 'UNCHANGED', 'NO_CHANGE'],
      [eve, course.id, 'FAILED', 'NOT_ASSIGNED'],
    ]);
    expect(subjects(events)).toEqual(['assignment.course.updated.v1']);
    const changed = CourseAssignmentChanged.fromJSON(events[0].data);
    expect(changed.changedFields.sort()).toEqual(['end_date', 'option']);
    expect(changed.notifyTemplateId).toBe('changed');
    const { rows: stored } = await bed.assignment.db.query(
      'SELECT start_date, end_date, option, payment_code FROM course_assignments WHERE user_id = $1',
      [ann],
    );
    expect(stored[0]).toEqual({ start_date: '2027-01-01', end_date: '2027-12-31', option: 'recommended', payment_code: 'A' });

    const outOfOrder = await bed.api.assignments.updateCourseAssignments({
      batch: key(),
      userIds: [ann],
      courseIds: [course.id],
      values: values({ endDate: '2026-01-01' }),
      notifyTemplateId: '',
    });
    expect(rows(outOfOrder.result)).toEqual([[ann, course.id, 'FAILED', 'INVALID_DATES']]);
    // "" clears a value.
    await bed.api.assignments.updateCourseAssignments({
      batch: key(),
      userIds: [ann],
      courseIds: [course.id],
      values: values({ endDate: '', paymentCode: '' }),
      notifyTemplateId: '',
    });
    const { rows: cleared } = await bed.assignment.db.query('SELECT end_date, payment_code FROM course_assignments WHERE user_id = $1', [
      ann,
    ]);
    expect(cleared[0]).toEqual({ end_date: null, payment_code: '' });
  });
});

describe('U10 remove courses', () => {
  it('removes the assignment (one event, with the notification) and fails what is not assigned', async () => {
    const [ann, bob] = [await newUser(bed), await newUser(bed)];
    const course = await newCourse(bed);
    await bed.api.assignments.assignCourses({
      batch: key(),
      userIds: [ann],
      courseIds: [course.id],
      values: values(),
      ignoreAudiences: false,
      notifyTemplateId: '',
    });
    const { result, events } = await bed.events.act(() =>
      bed.api.assignments.removeCourseAssignments({ batch: key(), userIds: [ann, bob], courseIds: [course.id], notifyTemplateId: 'bye' }),
    );
    expect(rows(result.result)).toEqual([
      [ann, course.id, 'SUCCEEDED', ''],
      [bob, course.id, 'FAILED', 'NOT_ASSIGNED'],
    ]);
    expect(subjects(events)).toEqual(['assignment.course.removed.v1']);
    expect(CourseAssignmentChanged.fromJSON(events[0].data).notifyTemplateId).toBe('bye');
    expect(await count('SELECT count(*) AS n FROM course_assignments WHERE course_id = $1', [course.id])).toBe(0);
  });
});

describe('C7 assign learners and C6 modify their assignment data', () => {
  it('assigns the selected courses to the learners, then changes their data; items are the courses', async () => {
    const [ann, bob] = [await newUser(bed), await newUser(bed)];
    const audience = await newAudience(bed);
    const [open, closed] = [await newCourse(bed), await newCourse(bed, {}, [audience])];
    const assigned = await bed.api.assignments.assignLearners({
      batch: key(),
      courseIds: [open.id, closed.id, UNKNOWN_ID],
      userIds: [ann, bob],
      values: values({ option: AssignmentOption.ASSIGNMENT_OPTION_RECOMMENDED }),
      notifyTemplateId: 'hello',
    });
    expect(rows(assigned.result)).toEqual([
      [open.id, ann, 'SUCCEEDED', ''],
      [open.id, bob, 'SUCCEEDED', ''],
      [closed.id, ann, 'FAILED', 'AUDIENCE_MISMATCH'],
      [closed.id, bob, 'FAILED', 'AUDIENCE_MISMATCH'],
      [UNKNOWN_ID, ann, 'FAILED', 'NOT_FOUND'],
      [UNKNOWN_ID, bob, 'FAILED', 'NOT_FOUND'],
    ]);
    const { result, events } = await bed.events.act(() =>
      bed.api.assignments.updateLearnerAssignments({
        batch: key(),
        courseIds: [open.id, closed.id],
        userIds: [ann],
        values: values({ paymentMode: PaymentMode.PAYMENT_MODE_NOT_BILLED, startDate: '2027-09-01' }),
      }),
    );
    expect(rows(result.result)).toEqual([
      [open.id, ann, 'SUCCEEDED', ''],
      [closed.id, ann, 'FAILED', 'NOT_ASSIGNED'],
    ]);
    expect(subjects(events)).toEqual(['assignment.course.updated.v1']);
    const { assignments, total } = await bed.api.assignments.listCourseAssignments({ courseId: open.id, page: { limit: 1, after: '' } });
    expect(total).toBe(2);
    const page2 = await bed.api.assignments.listCourseAssignments({
      courseId: open.id,
      page: {
        limit: 1,
        after: (await bed.api.assignments.listCourseAssignments({ courseId: open.id, page: { limit: 1, after: '' } })).nextCursor,
      },
    });
    const byUser = Object.fromEntries([...assignments, ...page2.assignments].map((a) => [a.userId, a]));
    expect(byUser[ann]).toMatchObject({
      option: AssignmentOption.ASSIGNMENT_OPTION_RECOMMENDED,
      paymentMode: PaymentMode.PAYMENT_MODE_NOT_BILLED,
      startDate: '2027-09-01',
    });
    expect(byUser[bob]).toMatchObject({ paymentMode: PaymentMode.PAYMENT_MODE_UNSPECIFIED, startDate: '' });
    expect(page2.nextCursor).toBe('');
  });

  it('refuses C7 without learners, naming the field', async () => {
    const course = await newCourse(bed);
    const err = await bed.events.refused(() =>
      bed.api.assignments.assignLearners({ batch: dryRun(), courseIds: [course.id], userIds: [], values: values(), notifyTemplateId: '' }),
    );
    expect(err.field).toBe('userIds');
  });
});
