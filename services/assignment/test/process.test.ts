import { AssignmentOption, DatesMode } from '@assistants/proto/gen/assignment/v1/common';
import { actingAs, readStream, startAssignmentProcess } from '@assistants/testing';
import { key, newCourse, newStaticList, newUser, rows, startAssignmentBed, waitFor, type AssignmentBed } from './helpers';

/** The service as its own process, killed (SIGKILL) and started again; identity's events
 * delivered again: nothing is applied twice. */
let bed: AssignmentBed;

beforeAll(async () => {
  bed = await startAssignmentBed('asgprocess');
});

afterAll(async () => {
  await bed?.stop();
});

const count = async (sql: string, params: unknown[]) => Number((await bed.assignment.db.query<{ n: string }>(sql, params)).rows[0].n);

it('answers a batch repeated after a SIGKILL with the recorded results, applied once (rows and events)', async () => {
  const [ann, bob] = [await newUser(bed), await newUser(bed)];
  const course = await newCourse(bed);
  // A second replica, as its own process, on the same database and NATS server.
  const proc = await startAssignmentProcess({
    nats: bed.fixture.nats,
    pg: bed.fixture.pg,
    identityAddress: bed.fixture.identity.address,
    catalogAddress: bed.catalog.address,
  });
  try {
    const api = actingAs(proc.client, bed.fixture.adminId);
    const request = {
      batch: key(),
      userIds: [ann, bob],
      courseIds: [course.id],
      values: { option: AssignmentOption.ASSIGNMENT_OPTION_MANDATORY },
      ignoreAudiences: false,
      notifyTemplateId: 'welcome',
    };
    const first = await api.assignments.assignCourses(request);
    expect(rows(first.result).map((r) => r[2])).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    await proc.kill('SIGKILL');
    await proc.restart();
    const again = await api.assignments.assignCourses(request);
    expect(again.result!.replayed).toBe(true);
    expect(rows(again.result)).toEqual(rows(first.result));
    expect(await count('SELECT count(*) AS n FROM course_assignments WHERE course_id = $1', [course.id])).toBe(2);
    await bed.assignment.flushEvents();
    const published = (await readStream(bed.assignment.bus, 'ASSIGNMENT')).filter(
      (e) => (e.data as { course?: { id: string } }).course?.id === course.id,
    );
    expect(published.map((e) => e.subject)).toEqual(['assignment.course.assigned.v1', 'assignment.course.assigned.v1']);
  } finally {
    await proc.stop();
  }
});

it('does not enrol twice when identity’s list entry is delivered again', async () => {
  const ann = await newUser(bed);
  const list = await newStaticList(bed, []);
  const course = await newCourse(bed);
  await bed.api.access.addCourseAccessProperties({
    batch: key(),
    courseIds: [course.id],
    listIds: [list],
    restrictVisibility: false,
    enrol: true,
    enrolment: {
      option: AssignmentOption.ASSIGNMENT_OPTION_FREE,
      datesMode: DatesMode.DATES_MODE_FIXED,
      startDate: '2027-01-01',
      objectiveDate: '',
      endDate: '',
      effectiveImmediately: false,
      applyOptionToCourses: false,
      carryDatesToCourses: false,
    },
  });
  const assigned = () => count('SELECT count(*) AS n FROM course_assignments WHERE user_id = $1 AND course_id = $2', [ann, course.id]);
  await bed.identity.lists.addListMembers({ listId: list, userIds: [ann] });
  await bed.fixture.identity.flushEvents();
  await waitFor('the entry to be handled', async () => (await assigned()) === 1);
  // The learner's assignment goes; the same entry comes again (a redelivery, past JetStream's
  // de-duplication): it is not applied a second time.
  await bed.api.assignments.removeCourseAssignments({ batch: key(), userIds: [ann], courseIds: [course.id], notifyTemplateId: '' });
  const entry = (await readStream(bed.fixture.identity.bus, 'IDENTITY')).find(
    (e) => e.subject === 'identity.list-member.entered.v1' && (e.data as { userId: string }).userId === ann,
  )!;
  const { seq } = await bed.fixture.identity.bus.js.publish(entry.subject, JSON.stringify(entry), { msgID: `again-${entry.id}` });
  await waitFor('the copy to be handled', async () => {
    const info = await bed.fixture.identity.bus.jsm.consumers.info('IDENTITY', 'assignment-list-enrolment');
    return info.ack_floor.stream_seq >= seq;
  });
  expect(await assigned()).toBe(0);
});
