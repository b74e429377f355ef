import pg from 'pg';
import { Assistants, dayPlus, lines, subjects, UNKNOWN_ID } from './assistants-support';

/**
 * The course assistant end to end (C1-C7): runs over real HTTP on the real services, NATS
 * and PostgreSQL; what each leaves read back through the API (courses, their assignments
 * and access properties, users' assignments), and the events each run published. C5's
 * enrolment of users who join a list later goes through identity's event and the
 * assignment service's consumer, as in production.
 */
const t = Assistants.forFile();

type Named = { id: string; login: string } | { id: string; code: string };
const names = (...things: Named[]) => Object.fromEntries(things.map((x) => [x.id, 'login' in x ? x.login : x.code]));

/** When each user entered the list, as identity recorded it (the delays count from it). */
async function enteredAt(listId: string, userId: string): Promise<string> {
  const { rows } = await t.stack.identity.db.query<{ entered_at: Date }>(
    'SELECT entered_at FROM list_members WHERE list_id = $1 AND user_id = $2',
    [listId, userId],
  );
  return rows[0].entered_at.toISOString();
}

describe('catalogue actions', () => {
  it('C1 changes disabled, provider and free texts; "unchanged" and absent fields stay', async () => {
    const x = await t.newCourse({ provider: 'Old', modality: 'Online', freeText2: 'keep' });
    const y = await t.newCourse({ disabled: true, provider: 'New', freeText1: 'one' });
    const { run, results } = await t.courses('C1', [x.id, y.id], { disabled: 'yes', provider: 'New', freeText1: 'one' });
    expect(lines(results).sort()).toEqual([`${x.code}: succeeded`, `${y.code}: unchanged ALREADY_SET`]);
    expect(await t.course(x.id)).toMatchObject({
      disabled: true,
      provider: 'New',
      modality: 'Online',
      freeText1: 'one',
      freeText2: 'keep',
    });
    const events = await t.eventsOf(run, 'CATALOG');
    expect(events.map((e) => [e.subject, e.data.code])).toEqual([['catalog.course.updated.v1', x.code]]);

    await t.courses('C1', [x.id], { disabled: 'unchanged', freeText2: '' });
    expect(await t.course(x.id)).toMatchObject({ disabled: true, provider: 'New', freeText1: 'one', freeText2: '' });
    await t.courses('C1', [x.id], { disabled: 'no' });
    expect(await t.course(x.id)).toMatchObject({ disabled: false, provider: 'New', freeText1: 'one' });
  });

  it('C2 changes the custom fields given, "" clears one, the others stay', async () => {
    const x = await t.newCourse({ custom1: 'c1', custom2: 'c2' });
    const { results } = await t.courses('C2', [x.id], { custom2: 'two', custom10: 'ten' });
    expect(lines(results)).toEqual([`${x.code}: succeeded`]);
    expect(await t.course(x.id)).toMatchObject({ custom1: 'c1', custom2: 'two', custom3: '', custom10: 'ten' });
    await t.courses('C2', [x.id], { custom1: '' });
    expect(await t.course(x.id)).toMatchObject({ custom1: '', custom2: 'two', custom10: 'ten' });
    const same = await t.courses('C2', [x.id], { custom2: 'two' });
    expect(lines(same.results)).toEqual([`${x.code}: unchanged ALREADY_SET`]);
  });

  it('C3 sets the settings given; "unchanged" ones stay; one of sequential lessons and prerequisites sets the other', async () => {
    const x = await t.newCourse({ fullScreen: true, protocol: 'aicc_hacp', selfUnenrolment: true });
    const { run, results } = await t.courses('C3', [x.id], {
      selfEnrolment: 'yes',
      selfUnenrolment: 'unchanged',
      learnerMayClearStats: 'yes',
      learnerMayRecomputeStatus: 'no',
      sequentialLessons: 'yes',
      prerequisites: 'no',
      courseType: 'instructor_led',
      protocol: 'unchanged',
      reviewMode: 'suspend',
      browseMode: 'not_allowed',
      windowWidth: 800,
      fullScreen: 'unchanged',
    });
    expect(lines(results)).toEqual([`${x.code}: succeeded`]);
    expect(await t.course(x.id)).toMatchObject({
      selfEnrolment: true,
      selfUnenrolment: true,
      learnerMayClearStats: true,
      learnerMayRecomputeStatus: false,
      sequentialLessons: true,
      prerequisites: false,
      courseType: 'instructor_led',
      protocol: 'aicc_hacp',
      reviewMode: 'suspend',
      browseMode: 'not_allowed',
      windowWidth: 800,
      windowHeight: 768,
      fullScreen: true,
    });
    expect(subjects(await t.eventsOf(run, 'CATALOG'))).toEqual(['catalog.course.updated.v1']);

    await t.courses('C3', [x.id], { prerequisites: 'yes' });
    expect(await t.course(x.id)).toMatchObject({ sequentialLessons: false, prerequisites: true, courseType: 'instructor_led' });
    const same = await t.courses('C3', [x.id], { sequentialLessons: 'no', prerequisites: 'yes', fullScreen: 'yes' });
    expect(lines(same.results)).toEqual([`${x.code}: unchanged ALREADY_SET`]);
  });

  it('C3 refuses sequential lessons and prerequisites both "yes" or both "no", naming the field, before anything starts', async () => {
    const x = await t.newCourse();
    const before = await t.course(x.id);
    const runsBefore = (await t.get('/v1/runs?limit=1')).total;
    for (const value of ['yes', 'no']) {
      const refused = await t.startRun({
        assistant: 'courses',
        action: 'C3',
        selection: { type: 'ids', ids: [x.id] },
        params: { sequentialLessons: value, prerequisites: value, fullScreen: 'yes' },
      });
      expect([value, refused.status, refused.body.field]).toEqual([value, 400, 'params.sequentialLessons']);
    }
    const badWindow = await t.startRun({
      assistant: 'courses',
      action: 'C3',
      selection: { type: 'ids', ids: [x.id] },
      params: { windowWidth: 0 },
    });
    expect([badWindow.status, badWindow.body.field]).toEqual([400, 'params.windowWidth']);
    expect((await t.get('/v1/runs?limit=1')).total).toBe(runsBefore);
    expect(await t.course(x.id)).toEqual(before);
  });

  it('C4 adds audiences to those of the courses a filter selects (minus exclusions)', async () => {
    const token = t.unique('AUD');
    const [north, south] = [await t.newAudience(), await t.newAudience()];
    const x = await t.newCourse({ code: `${token}-X` });
    const y = await t.newCourse({ code: `${token}-Y`, audienceIds: [north] });
    const z = await t.newCourse({ code: `${token}-Z`, audienceIds: [north, south] });
    const excluded = await t.newCourse({ code: `${token}-W` });
    const { run, results } = await t.run({
      assistant: 'courses',
      action: 'C4',
      selection: { type: 'filter', filter: { code: token }, excludeIds: [excluded.id] },
      params: { audienceIds: [north, south] },
    });
    expect(run.total).toBe(3);
    expect(lines(results).sort()).toEqual([`${x.code}: succeeded`, `${y.code}: succeeded`, `${z.code}: unchanged ALREADY_HAS_AUDIENCES`]);
    for (const course of [x, y, z]) expect((await t.course(course.id)).audienceIds.sort()).toEqual([north, south].sort());
    expect((await t.course(excluded.id)).audienceIds).toEqual([]);
    const refused = await t.startRun({
      assistant: 'courses',
      action: 'C4',
      selection: { type: 'ids', ids: [x.id] },
      params: { audienceIds: [north, UNKNOWN_ID] },
    });
    expect([refused.status, refused.body.field]).toEqual([400, 'params.audienceIds[1]']);
  });
});

describe('access properties (C5)', () => {
  it('effective immediately: members get dates counted from their own entry in the list, existing assignments too; a user joining later is enrolled', async () => {
    const [m1, m2, m3, outsider] = await t.newUsers(4);
    const course = await t.newCourse();
    // m2 had the course already, with its own dates and option.
    await t.users('U7', [m2.id], { courseIds: [course.id], startDate: '2026-05-01', endDate: '2026-12-31', option: 'mandatory' });
    const list = await t.newList([m1.id, m2.id]);
    // m1 entered the list 40 days ago: its delays count from then, not from today.
    await t.stack.identity.db.query(
      "UPDATE list_members SET entered_at = entered_at - interval '40 days' WHERE list_id = $1 AND user_id = $2",
      [list, m1.id],
    );
    const params = {
      listIds: [list],
      restrictVisibility: true,
      enrol: true,
      option: 'recommended',
      datesMode: 'relative',
      startDelayDays: 0,
      objectiveDelayDays: 10,
      endDelayDays: 60,
      effectiveImmediately: true,
    };
    const { run, results } = await t.courses('C5', [course.id], params);
    expect(lines(results, { [list]: 'list' })).toEqual([`${course.code} list: succeeded`]);
    expect(results[0].message).toBe('1 enrolled, 1 assignment(s) given the dates, visible to 2 more user(s)');

    const [property] = (await t.get(`/v1/courses/${course.id}/access-properties`)).items;
    expect(property).toMatchObject({
      objectType: 'course',
      objectId: course.id,
      listId: list,
      restrictVisibility: true,
      enrol: true,
      enrolment: {
        option: 'recommended',
        datesMode: 'relative',
        startDate: '',
        objectiveDate: '',
        endDate: '',
        startDelayDays: 0,
        objectiveDelayDays: 10,
        endDelayDays: 60,
        effectiveImmediately: true,
        applyOptionToCourses: false,
        carryDatesToCourses: false,
      },
    });

    const dates = (entered: string) => ({
      startDate: dayPlus(entered, 0),
      objectiveDate: dayPlus(entered, 10),
      endDate: dayPlus(entered, 60),
    });
    const e1 = await enteredAt(list, m1.id);
    expect(dayPlus(e1, 0)).toBe(dayPlus(new Date(), -40));
    expect((await t.courseAssignments(m1.id)).get(course.id)).toMatchObject({
      ...dates(e1),
      option: 'recommended',
      direct: false,
      accessPropertyIds: [property.id],
    });
    // Its existing assignment is given the dates; it keeps its option and stays its own.
    expect((await t.courseAssignments(m2.id)).get(course.id)).toMatchObject({
      ...dates(await enteredAt(list, m2.id)),
      option: 'mandatory',
      direct: true,
      accessPropertyIds: [property.id],
    });
    expect((await t.courseAssignments(outsider.id)).size).toBe(0);

    const events = await t.eventsOf(run, 'ASSIGNMENT');
    const about = (e: any) => e.data.learner?.login ?? [m1, m2].find((m) => m.id === e.data.userId)?.login ?? e.data.object?.code;
    expect(events.map((e) => `${e.subject} ${about(e)}`).sort()).toEqual(
      [
        `assignment.access-property.added.v1 ${course.code}`,
        `assignment.course.assigned.v1 ${m1.login}`,
        `assignment.course.updated.v1 ${m2.login}`,
        `assignment.visibility.changed.v1 ${m1.login}`,
        `assignment.visibility.changed.v1 ${m2.login}`,
      ].sort(),
    );
    expect(events.find((e) => e.subject === 'assignment.course.updated.v1')!.data.changedFields).toEqual([
      'start_date',
      'objective_date',
      'end_date',
    ]);

    // m3 joins the list now: identity's event reaches the assignment service, which enrols it
    // with dates counted from its own entry, and lets it see the course.
    await t.post(`/v1/lists/${list}/members`, { userIds: [m3.id] });
    const joined = await t.eventually(async () => (await t.courseAssignments(m3.id)).get(course.id), 'm3 enrolled');
    expect(joined).toMatchObject({
      ...dates(await enteredAt(list, m3.id)),
      option: 'recommended',
      direct: false,
      accessPropertyIds: [property.id],
    });
    const visible = await t.eventually(async () => {
      const found = (await t.events('ASSIGNMENT')).filter(
        (e) => e.subject === 'assignment.visibility.changed.v1' && e.data.userId === m3.id,
      );
      return found.length > 0 ? found : undefined;
    }, 'm3 sees the course');
    expect(visible.map((e) => e.data)).toEqual([
      { userId: m3.id, objectType: 'OBJECT_TYPE_COURSE', objectId: course.id, visible: true, listId: list },
    ]);
  });

  it('visibility follows membership: a user who leaves the list no longer sees the course, and keeps its assignment', async () => {
    const [m1, m2] = await t.newUsers(2);
    const course = await t.newCourse();
    const list = await t.newList([m1.id, m2.id]);
    await t.courses('C5', [course.id], { listIds: [list], restrictVisibility: true, enrol: true });
    await t.post(`/v1/lists/${list}/members/remove`, { userIds: [m1.id] });
    const hidden = await t.eventually(async () => {
      const found = (await t.events('ASSIGNMENT')).filter(
        (e) => e.subject === 'assignment.visibility.changed.v1' && e.data.userId === m1.id && !e.data.visible,
      );
      return found.length > 0 ? found : undefined;
    }, 'm1 no longer sees the course');
    expect(hidden.map((e) => e.data)).toEqual([{ userId: m1.id, objectType: 'OBJECT_TYPE_COURSE', objectId: course.id, listId: list }]);
    expect((await t.courseAssignments(m1.id)).has(course.id)).toBe(true);
    expect(
      (await t.events('ASSIGNMENT')).some(
        (e) => e.subject === 'assignment.visibility.changed.v1' && e.data.userId === m2.id && e.data.visible === undefined,
      ),
    ).toBe(false);
  });

  it('enrols a user who enters a dynamic list because a U1 run changed one of its fields', async () => {
    const token = t.unique('dyn');
    const [early, late] = [await t.newUser({ custom7: token }), await t.newUser()];
    const course = await t.newCourse();
    const list = (await t.post('/v1/lists', { name: t.unique('Dynamic'), type: 'dynamic', criteria: { custom7: token } })).id;
    await t.courses('C5', [course.id], {
      listIds: [list],
      enrol: true,
      option: 'mandatory',
      datesMode: 'relative',
      startDelayDays: 1,
      endDelayDays: 14,
    });
    // Not effective immediately: who was in the list is enrolled without dates.
    expect((await t.courseAssignments(early.id)).get(course.id)).toMatchObject({ option: 'mandatory', startDate: '', endDate: '' });

    await t.users('U1', [late.id], { custom7: token });
    const joined = await t.eventually(async () => (await t.courseAssignments(late.id)).get(course.id), 'late enrolled');
    const entered = await enteredAt(list, late.id);
    expect(joined).toMatchObject({ option: 'mandatory', startDate: dayPlus(entered, 1), endDate: dayPlus(entered, 14), direct: false });
  });

  it('as a dry run, says what C5 would do and adds nothing: no property, no assignment, no event', async () => {
    const member = await t.newUser();
    const course = await t.newCourse();
    const list = await t.newList([member.id]);
    const { run, results } = await t.run({
      assistant: 'courses',
      action: 'C5',
      selection: { type: 'ids', ids: [course.id] },
      params: { listIds: [list], restrictVisibility: true, enrol: true },
      dryRun: true,
    });
    expect(results.map((r) => [r.outcome, r.message])).toEqual([
      ['succeeded', '1 enrolled, 0 assignment(s) given the dates, visible to 1 more user(s)'],
    ]);
    expect((await t.get(`/v1/courses/${course.id}/access-properties`)).items).toEqual([]);
    expect((await t.courseAssignments(member.id)).size).toBe(0);
    expect(await t.eventsOf(run, 'ASSIGNMENT')).toEqual([]);
  });

  it('not effective immediately: members are enrolled without dates and keep theirs; a user joining later gets the fixed dates', async () => {
    const [m1, m2, m3] = await t.newUsers(3);
    const course = await t.newCourse();
    await t.users('U7', [m2.id], { courseIds: [course.id], startDate: '2026-05-01', endDate: '2026-12-31' });
    const list = await t.newList([m1.id, m2.id]);
    const { run, results } = await t.courses('C5', [course.id], {
      listIds: [list],
      enrol: true,
      option: 'mandatory',
      datesMode: 'fixed',
      startDate: '2027-01-04',
      endDate: '2027-03-31',
    });
    expect(results.map((r) => [r.outcome, r.message])).toEqual([['succeeded', '1 enrolled, 0 assignment(s) given the dates']]);
    expect((await t.courseAssignments(m1.id)).get(course.id)).toMatchObject({ startDate: '', endDate: '', option: 'mandatory' });
    expect((await t.courseAssignments(m2.id)).get(course.id)).toMatchObject({
      startDate: '2026-05-01',
      endDate: '2026-12-31',
      option: 'free',
    });
    // No restriction: nobody's visibility changes.
    expect(subjects(await t.eventsOf(run, 'ASSIGNMENT')).sort()).toEqual([
      'assignment.access-property.added.v1',
      'assignment.course.assigned.v1',
    ]);

    await t.post(`/v1/lists/${list}/members`, { userIds: [m3.id] });
    const joined = await t.eventually(async () => (await t.courseAssignments(m3.id)).get(course.id), 'm3 enrolled');
    expect(joined).toMatchObject({ startDate: '2027-01-04', objectiveDate: '', endDate: '2027-03-31', option: 'mandatory', direct: false });
  });

  it('enrols a user who joins the list while the C5 batch is being applied', async () => {
    const [m1, m2] = await t.newUsers(2);
    const course = await t.newCourse();
    const list = await t.newList([m1.id]);
    // The batch stops just before it enrols anybody (its access property written, not committed).
    const blocker = new pg.Client({ connectionString: t.stack.fixture.pg.url });
    await blocker.connect();
    let runId = '';
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE assignment.course_assignments IN EXCLUSIVE MODE');
      const created = await t.startRun({
        assistant: 'courses',
        action: 'C5',
        selection: { type: 'ids', ids: [course.id] },
        params: { listIds: [list], enrol: true, datesMode: 'relative', endDelayDays: 7 },
      });
      runId = created.body.id;
      await t.eventually(async () => {
        const { rows } = await blocker.query(
          `SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted AND relation = 'assignment.course_assignments'::regclass
           AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
        );
        return rows[0].n > 0 ? true : undefined;
      }, 'the batch waits on the lock');
      // m2 joins now; identity's event reaches the assignment service meanwhile.
      await t.post(`/v1/lists/${list}/members`, { userIds: [m2.id] });
      const entry = await t.eventually(async () => {
        const found = (await t.events('IDENTITY')).find(
          (e) => e.subject === 'identity.list-member.entered.v1' && e.data.listId === list && e.data.userId === m2.id,
        );
        return found;
      }, 'm2 entered');
      // The entry is handled meanwhile (the property not committed yet), or waits for the batch.
      await t.eventually(async () => {
        const { rows } = await blocker.query(
          `SELECT (SELECT count(*) FROM assignment.kit_inbox WHERE event_id = $1)
                + (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
                   AND database = (SELECT oid FROM pg_database WHERE datname = current_database())) AS n`,
          [entry.id],
        );
        return Number(rows[0].n) > 0 ? true : undefined;
      }, 'the entry handled or waiting');
      await blocker.query('COMMIT');
    } finally {
      await blocker.end();
    }
    const run = await t.waitForRun(runId);
    expect(run).toMatchObject({ status: 'completed', succeeded: 1 });
    expect((await t.courseAssignments(m1.id)).has(course.id)).toBe(true);
    const joined = await t.eventually(async () => (await t.courseAssignments(m2.id)).get(course.id), 'm2 enrolled', 5_000);
    expect(joined).toMatchObject({ endDate: dayPlus(await enteredAt(list, m2.id), 7) });
  });

  it('reports a disabled course per list, and refuses an unknown list or nothing to do', async () => {
    const list = await t.newList([(await t.newUser()).id]);
    const disabled = await t.newCourse({ disabled: true });
    const { results } = await t.courses('C5', [disabled.id], { listIds: [list], enrol: true });
    expect(lines(results, { [list]: 'list' })).toEqual([`${disabled.code} list: failed COURSE_DISABLED`]);
    expect((await t.get(`/v1/courses/${disabled.id}/access-properties`)).items).toEqual([]);
    const refusals: [object, string][] = [
      [{ listIds: [list, UNKNOWN_ID], enrol: true }, 'params.listIds[1]'],
      [{ listIds: [list] }, 'params.restrictVisibility'],
      [{ listIds: [list], enrol: true, datesMode: 'relative', startDelayDays: 30, endDelayDays: 10 }, 'params.endDelayDays'],
    ];
    for (const [params, field] of refusals) {
      const refused = await t.startRun({ assistant: 'courses', action: 'C5', selection: { type: 'ids', ids: [disabled.id] }, params });
      expect([refused.status, refused.body.field]).toEqual([400, field]);
    }
  });
});

describe('assignment data of the selected courses', () => {
  it('C6 changes the given values of the learners’ assignments; "unchanged" and absent stay, "" clears', async () => {
    const [a, b] = [await t.newUser(), await t.newUser()];
    const course = await t.newCourse();
    await t.users('U7', [a.id], {
      courseIds: [course.id],
      startDate: '2027-01-01',
      endDate: '2027-06-30',
      option: 'recommended',
      paymentMode: 'prepaid_account',
      paymentCode: 'OLD',
      unitCost: '10',
    });
    const { run, results } = await t.courses('C6', [course.id], {
      userIds: [a.id, b.id],
      startDate: '',
      option: 'unchanged',
      paymentMode: 'unchanged',
      paymentCode: 'PO-9',
    });
    expect(lines(results, names(a, b)).sort()).toEqual(
      [`${course.code} ${a.login}: succeeded`, `${course.code} ${b.login}: failed NOT_ASSIGNED`].sort(),
    );
    expect((await t.courseAssignments(a.id)).get(course.id)).toMatchObject({
      startDate: '',
      endDate: '2027-06-30',
      option: 'recommended',
      paymentMode: 'prepaid_account',
      paymentCode: 'PO-9',
      unitCost: '10.00',
    });
    expect((await t.courseAssignments(b.id)).size).toBe(0);
    expect((await t.eventsOf(run, 'ASSIGNMENT')).map((e) => [e.subject, e.data.learner.login, e.data.changedFields])).toEqual([
      ['assignment.course.updated.v1', a.login, ['start_date', 'payment_code']],
    ]);
  });

  it('C7 assigns the learners to each course with the values given; the audience rule always applies', async () => {
    const sales = await t.newAudience();
    const a = await t.newUser({ audienceIds: [sales] });
    const b = await t.newUser();
    const open = await t.newCourse();
    const restricted = await t.newCourse({ audienceIds: [sales] });
    await t.users('U7', [b.id], { courseIds: [open.id], option: 'recommended' });
    const { run, results } = await t.courses('C7', [open.id, restricted.id], {
      userIds: [a.id, b.id],
      startDate: '2027-02-01',
      endDate: '2027-04-30',
      option: 'mandatory',
      paymentMode: 'not_billed',
      notifyTemplateId: t.template('welcome'),
    });
    expect(lines(results, names(a, b)).sort()).toEqual(
      [
        `${open.code} ${a.login}: succeeded`,
        `${open.code} ${b.login}: unchanged ALREADY_ASSIGNED`,
        `${restricted.code} ${a.login}: succeeded`,
        `${restricted.code} ${b.login}: failed AUDIENCE_MISMATCH`,
      ].sort(),
    );
    const values = { startDate: '2027-02-01', endDate: '2027-04-30', option: 'mandatory', paymentMode: 'not_billed', direct: true };
    expect((await t.courseAssignments(a.id)).get(open.id)).toMatchObject(values);
    expect((await t.courseAssignments(a.id)).get(restricted.id)).toMatchObject(values);
    expect((await t.courseAssignments(b.id)).get(open.id)).toMatchObject({ startDate: '', option: 'recommended' });
    expect((await t.courseAssignments(b.id)).has(restricted.id)).toBe(false);
    const events = await t.eventsOf(run, 'ASSIGNMENT');
    expect(events.map((e) => [e.subject, e.data.course.code, e.data.learner.login, e.data.notifyTemplateId ?? '']).sort()).toEqual(
      [
        ['assignment.course.assigned.v1', open.code, a.login, t.template('welcome')],
        ['assignment.course.assigned.v1', restricted.code, a.login, t.template('welcome')],
      ].sort(),
    );
  });

  it('C7 by a scoped administrator: learners outside its sub-tree are OUT_OF_SCOPE and not assigned', async () => {
    const branch = await t.newOrganisation('Branch');
    const elsewhere = await t.newOrganisation('Elsewhere');
    const admin = await t.scopedAdministrator(branch, ['catalog:read', 'users:read', 'assignments:write', 'assignments:read']);
    const inside = await t.newUser({ organisationId: branch });
    const outside = await t.newUser({ organisationId: elsewhere });
    const course = await t.newCourse();
    const { run, results } = await t.courses('C7', [course.id], { userIds: [inside.id, outside.id] }, { auth: admin.auth });
    expect(run).toMatchObject({ actorId: admin.id, succeeded: 1, failed: 1 });
    expect(lines(results, names(inside, outside)).sort()).toEqual(
      [`${course.code} ${inside.login}: succeeded`, `${course.code} ${outside.login}: failed OUT_OF_SCOPE`].sort(),
    );
    expect((await t.get(`/v1/courses/${course.id}/assignments`)).items.map((x: { userId: string }) => x.userId)).toEqual([inside.id]);
    expect((await t.courseAssignments(outside.id)).size).toBe(0);
    expect((await t.eventsOf(run, 'ASSIGNMENT')).map((e) => e.data.learner.id)).toEqual([inside.id]);
    // It may not change the catalogue, nor add access properties (both need the root).
    const c1 = await t.startRun(
      { assistant: 'courses', action: 'C1', selection: { type: 'ids', ids: [course.id] }, params: { provider: 'x' } },
      admin.auth,
    );
    expect(c1.status).toBe(403);
  });
});
