import { Assistants, dayPlus, lines, subjects, UNKNOWN_ID } from './assistants-support';

/**
 * Curricula end to end: the curriculum assistant (P1-P4) and the user assistant's curriculum
 * actions (U12, U13, U15), run over real HTTP on the real services, NATS and PostgreSQL; the
 * state each leaves read back through the API (curricula, users' curriculum and course
 * assignments, access properties), and the events each run published.
 */
const t = Assistants.forFile();

type Named = { id: string; login: string } | { id: string; code: string };
const names = (...things: Named[]) => Object.fromEntries(things.map((x) => [x.id, 'login' in x ? x.login : x.code]));

async function enteredAt(listId: string, userId: string): Promise<string> {
  const { rows } = await t.stack.identity.db.query<{ entered_at: Date }>(
    'SELECT entered_at FROM list_members WHERE list_id = $1 AND user_id = $2',
    [listId, userId],
  );
  return rows[0].entered_at.toISOString();
}

/** A curriculum of new courses (the last one disabled when asked). */
async function newPath(courses: number, options: { disabledCourse?: boolean; fields?: Record<string, unknown> } = {}) {
  const list = [];
  for (let i = 0; i < courses; i++) list.push(await t.newCourse());
  if (options.disabledCourse) list.push(await t.newCourse({ disabled: true }));
  const curriculum = await t.newCurriculum(
    list.map((c) => c.id),
    options.fields,
  );
  return { curriculum, courses: list };
}

describe('the user assistant’s curriculum actions', () => {
  it('U12 assigns curricula and their courses, carrying its dates and option onto them, new and existing', async () => {
    const {
      curriculum,
      courses: [c1, c2, off],
    } = await newPath(2, { disabledCourse: true });
    const [a, b] = [await t.newUser(), await t.newUser()];
    await t.users('U7', [b.id], { courseIds: [c1.id], startDate: '2026-01-01', option: 'recommended' });
    const { run, results } = await t.users('U12', [a.id, b.id], {
      curriculumIds: [curriculum.id],
      startDate: '2027-01-04',
      objectiveDate: '2027-02-15',
      endDate: '2027-03-31',
      option: 'mandatory',
      carryDatesToCourses: true,
      notifyTemplateId: t.template('path-assigned'),
    });
    expect(lines(results, names(curriculum)).sort()).toEqual(
      [`${a.login} ${curriculum.code}: succeeded`, `${b.login} ${curriculum.code}: succeeded`].sort(),
    );
    const values = { startDate: '2027-01-04', objectiveDate: '2027-02-15', endDate: '2027-03-31', option: 'mandatory' };
    for (const user of [a, b]) {
      expect((await t.curriculumAssignments(user.id)).get(curriculum.id)).toMatchObject({ ...values, direct: true });
    }
    const ofA = await t.courseAssignments(a.id);
    expect([...ofA.keys()].sort()).toEqual([c1.id, c2.id].sort());
    for (const course of [c1, c2]) {
      expect(ofA.get(course.id)).toMatchObject({ ...values, direct: false, curriculumIds: [curriculum.id], paymentMode: 'none' });
    }
    expect(ofA.has(off.id)).toBe(false);
    // b's own assignment of c1 is given the curriculum's dates and option, and stays its own.
    const ofB = await t.courseAssignments(b.id);
    expect(ofB.get(c1.id)).toMatchObject({ ...values, direct: true, curriculumIds: [curriculum.id] });
    expect(ofB.get(c2.id)).toMatchObject({ ...values, direct: false });

    const events = await t.eventsOf(run, 'ASSIGNMENT');
    const seen = events.map((e) => [
      e.subject,
      e.data.learner.login,
      (e.data.course ?? e.data.curriculum).code,
      e.data.notifyTemplateId ?? '',
    ]);
    expect(seen.sort()).toEqual(
      [
        ['assignment.curriculum.assigned.v1', a.login, curriculum.code, t.template('path-assigned')],
        ['assignment.curriculum.assigned.v1', b.login, curriculum.code, t.template('path-assigned')],
        ['assignment.course.assigned.v1', a.login, c1.code, ''],
        ['assignment.course.assigned.v1', a.login, c2.code, ''],
        ['assignment.course.assigned.v1', b.login, c2.code, ''],
        ['assignment.course.updated.v1', b.login, c1.code, ''],
      ].sort(),
    );
    // The course events say which curriculum they came with.
    expect(events.filter((e) => e.subject.startsWith('assignment.course.')).every((e) => e.data.curriculum.code === curriculum.code)).toBe(
      true,
    );
  });

  it('U12 without carry-over: new course assignments have no dates and are Free; existing ones keep theirs', async () => {
    const {
      curriculum,
      courses: [c1, c2],
    } = await newPath(2);
    const a = await t.newUser();
    // c2 has an audience a does not share: the curriculum's audiences decide, its courses come with it.
    await t.call('PATCH', `/v1/courses/${c2.id}`, { audienceIds: [await t.newAudience()] });
    await t.users('U7', [a.id], { courseIds: [c1.id], startDate: '2026-03-01', endDate: '2026-09-30', option: 'recommended' });
    await t.users('U12', [a.id], { curriculumIds: [curriculum.id], startDate: '2027-05-01', option: 'mandatory' });
    expect((await t.curriculumAssignments(a.id)).get(curriculum.id)).toMatchObject({ startDate: '2027-05-01', option: 'mandatory' });
    const courses = await t.courseAssignments(a.id);
    expect(courses.get(c1.id)).toMatchObject({
      startDate: '2026-03-01',
      endDate: '2026-09-30',
      option: 'recommended',
      direct: true,
      curriculumIds: [curriculum.id],
    });
    expect(courses.get(c2.id)).toMatchObject({ startDate: '', endDate: '', option: 'free', direct: false, curriculumIds: [curriculum.id] });
  });

  it('U12 applies the curriculum’s audiences unless told to ignore them; a disabled curriculum is not assigned', async () => {
    const sales = await t.newAudience();
    const { curriculum, courses } = await newPath(1, { fields: { audienceIds: [sales] } });
    const { curriculum: disabled } = await newPath(1, { fields: { disabled: true } });
    const seller = await t.newUser({ audienceIds: [sales] });
    const other = await t.newUser();
    const byRule = await t.users('U12', [seller.id, other.id], { curriculumIds: [curriculum.id, disabled.id] });
    expect(lines(byRule.results, names(curriculum, disabled)).sort()).toEqual(
      [
        `${seller.login} ${curriculum.code}: succeeded`,
        `${seller.login} ${disabled.code}: failed CURRICULUM_DISABLED`,
        `${other.login} ${curriculum.code}: failed AUDIENCE_MISMATCH`,
        `${other.login} ${disabled.code}: failed CURRICULUM_DISABLED`,
      ].sort(),
    );
    expect((await t.assignmentsOf(other.id)).curriculumAssignments).toEqual([]);
    expect((await t.assignmentsOf(other.id)).courseAssignments).toEqual([]);

    const ignoring = await t.users('U12', [seller.id, other.id], { curriculumIds: [curriculum.id], ignoreAudiences: true });
    expect(lines(ignoring.results, names(curriculum)).sort()).toEqual(
      [`${seller.login} ${curriculum.code}: unchanged ALREADY_ASSIGNED`, `${other.login} ${curriculum.code}: succeeded`].sort(),
    );
    expect([...(await t.curriculumAssignments(other.id)).keys()]).toEqual([curriculum.id]);
    expect([...(await t.courseAssignments(other.id)).keys()]).toEqual([courses[0].id]);

    const refusals: [object, string][] = [
      [{ curriculumIds: [UNKNOWN_ID] }, 'params.curriculumIds[0]'],
      [{ curriculumIds: [curriculum.id], startDate: '2027-03-01', endDate: '2027-01-01' }, 'params.endDate'],
      [{ curriculumIds: [curriculum.id], paymentCode: 'PO' }, 'params.paymentCode'],
    ];
    for (const [params, field] of refusals) {
      const refused = await t.startRun({ assistant: 'users', action: 'U12', selection: { type: 'ids', ids: [other.id] }, params });
      expect([refused.status, refused.body.field]).toEqual([400, field]);
    }
  });

  it('U13 changes the given fields of curriculum assignments and, with carry-over, writes them onto its courses', async () => {
    const {
      curriculum,
      courses: [c1, c2],
    } = await newPath(2);
    const [a, b] = [await t.newUser(), await t.newUser()];
    await t.users('U12', [a.id], { curriculumIds: [curriculum.id], startDate: '2027-01-01', endDate: '2027-06-30', option: 'recommended' });
    const { run, results } = await t.users('U13', [a.id, b.id], {
      curriculumIds: [curriculum.id],
      endDate: '2027-09-30',
      option: 'unchanged',
      carryDatesToCourses: true,
      notifyTemplateId: t.template('path-changed'),
    });
    expect(lines(results, names(curriculum)).sort()).toEqual(
      [`${a.login} ${curriculum.code}: succeeded`, `${b.login} ${curriculum.code}: failed NOT_ASSIGNED`].sort(),
    );
    const dates = { startDate: '2027-01-01', objectiveDate: '', endDate: '2027-09-30', option: 'recommended' };
    expect((await t.curriculumAssignments(a.id)).get(curriculum.id)).toMatchObject(dates);
    const courses = await t.courseAssignments(a.id);
    for (const course of [c1, c2]) expect(courses.get(course.id)).toMatchObject(dates);
    const events = await t.eventsOf(run, 'ASSIGNMENT');
    expect(
      events.map((e) => [e.subject, (e.data.course ?? e.data.curriculum).code, e.data.changedFields, e.data.notifyTemplateId ?? '']).sort(),
    ).toEqual(
      [
        ['assignment.curriculum.updated.v1', curriculum.code, ['end_date'], t.template('path-changed')],
        ['assignment.course.updated.v1', c1.code, ['start_date', 'end_date', 'option'], ''],
        ['assignment.course.updated.v1', c2.code, ['start_date', 'end_date', 'option'], ''],
      ].sort(),
    );

    // Without carry-over the courses keep theirs; the same values again change nothing.
    await t.users('U13', [a.id], { curriculumIds: [curriculum.id], objectiveDate: '2027-03-01' });
    expect((await t.curriculumAssignments(a.id)).get(curriculum.id)).toMatchObject({ ...dates, objectiveDate: '2027-03-01' });
    expect((await t.courseAssignments(a.id)).get(c1.id)).toMatchObject(dates);
    const same = await t.users('U13', [a.id], { curriculumIds: [curriculum.id], objectiveDate: '2027-03-01', option: 'recommended' });
    expect(lines(same.results, names(curriculum))).toEqual([`${a.login} ${curriculum.code}: unchanged NO_CHANGE`]);
  });

  it('U15 removes curricula, and with their courses only those nothing else holds', async () => {
    const {
      curriculum,
      courses: [c1, c2],
    } = await newPath(2);
    const [a, b, c] = [await t.newUser(), await t.newUser(), await t.newUser()];
    await t.users('U12', [a.id, b.id], { curriculumIds: [curriculum.id] });
    // a was given c1 directly too.
    await t.users('U7', [a.id], { courseIds: [c1.id] });

    const { run, results } = await t.users('U15', [a.id, c.id], {
      curriculumIds: [curriculum.id],
      removeCourses: true,
      notifyTemplateId: t.template('path-removed'),
    });
    expect(lines(results, names(curriculum)).sort()).toEqual(
      [`${a.login} ${curriculum.code}: succeeded`, `${c.login} ${curriculum.code}: failed NOT_ASSIGNED`].sort(),
    );
    expect((await t.curriculumAssignments(a.id)).size).toBe(0);
    const ofA = await t.courseAssignments(a.id);
    expect([...ofA.keys()]).toEqual([c1.id]);
    expect(ofA.get(c1.id)).toMatchObject({ direct: true, curriculumIds: [] });
    const events = await t.eventsOf(run, 'ASSIGNMENT');
    expect(events.map((e) => [e.subject, (e.data.course ?? e.data.curriculum).code, e.data.notifyTemplateId ?? '']).sort()).toEqual(
      [
        ['assignment.curriculum.removed.v1', curriculum.code, t.template('path-removed')],
        ['assignment.course.removed.v1', c2.code, ''],
      ].sort(),
    );

    // Without removeCourses, the courses stay, as the user's own.
    await t.users('U15', [b.id], { curriculumIds: [curriculum.id] });
    expect((await t.curriculumAssignments(b.id)).size).toBe(0);
    const ofB = await t.courseAssignments(b.id);
    expect([...ofB.keys()].sort()).toEqual([c1.id, c2.id].sort());
    expect(ofB.get(c2.id).curriculumIds).toEqual([]);
  });
});

describe('the curriculum assistant', () => {
  it('P1 changes disabled and free texts; "unchanged" and absent fields stay', async () => {
    const x = await t.newCurriculum([], { freeText2: 'keep', description: 'about' });
    const y = await t.newCurriculum([], { disabled: true, freeText1: 'one' });
    const { run, results } = await t.curricula('P1', [x.id, y.id], { disabled: 'yes', freeText1: 'one' });
    expect(lines(results).sort()).toEqual([`${x.code}: succeeded`, `${y.code}: unchanged ALREADY_SET`].sort());
    expect(await t.curriculum(x.id)).toMatchObject({ disabled: true, freeText1: 'one', freeText2: 'keep', description: 'about' });
    expect((await t.eventsOf(run, 'CATALOG')).map((e) => [e.subject, e.data.code])).toEqual([['catalog.curriculum.updated.v1', x.code]]);
    await t.curricula('P1', [x.id], { disabled: 'unchanged', freeText2: '' });
    expect(await t.curriculum(x.id)).toMatchObject({ disabled: true, freeText1: 'one', freeText2: '' });
    await t.curricula('P1', [x.id], { disabled: 'no' });
    expect(await t.curriculum(x.id)).toMatchObject({ disabled: false, freeText1: 'one' });
  });

  it('P2 changes the custom fields given', async () => {
    const x = await t.newCurriculum([], { custom1: 'c1', custom5: 'c5' });
    const { results } = await t.curricula('P2', [x.id], { custom5: 'five', custom9: 'nine' });
    expect(lines(results)).toEqual([`${x.code}: succeeded`]);
    expect(await t.curriculum(x.id)).toMatchObject({ custom1: 'c1', custom5: 'five', custom9: 'nine' });
    await t.curricula('P2', [x.id], { custom1: '' });
    expect(await t.curriculum(x.id)).toMatchObject({ custom1: '', custom5: 'five' });
  });

  it('P3 adds audiences to the curricula a filter selects', async () => {
    const token = t.unique('PAUD');
    const [north, south] = [await t.newAudience(), await t.newAudience()];
    const x = await t.newCurriculum([], { code: `${token}-X` });
    const y = await t.newCurriculum([], { code: `${token}-Y`, audienceIds: [north, south] });
    const { run, results } = await t.run({
      assistant: 'curricula',
      action: 'P3',
      selection: { type: 'filter', filter: { code: token } },
      params: { audienceIds: [north, south] },
    });
    expect(run.total).toBe(2);
    expect(lines(results).sort()).toEqual([`${x.code}: succeeded`, `${y.code}: unchanged ALREADY_HAS_AUDIENCES`].sort());
    expect((await t.curriculum(x.id)).audienceIds.sort()).toEqual([north, south].sort());
  });

  it('P4 effective immediately: relative dates from each entry, option and dates carried onto the courses; a user joining later too', async () => {
    const {
      curriculum,
      courses: [c1, c2],
    } = await newPath(2);
    const [m1, m2, m3] = await t.newUsers(3);
    await t.users('U7', [m2.id], { courseIds: [c1.id], startDate: '2026-02-01', option: 'free' });
    const list = await t.newList([m1.id, m2.id]);
    await t.stack.identity.db.query(
      "UPDATE list_members SET entered_at = entered_at - interval '20 days' WHERE list_id = $1 AND user_id = $2",
      [list, m1.id],
    );
    const { run, results } = await t.curricula('P4', [curriculum.id], {
      listId: list,
      restrictVisibility: true,
      enrol: true,
      option: 'mandatory',
      applyOptionToCourses: true,
      datesMode: 'relative',
      startDelayDays: 2,
      endDelayDays: 30,
      carryDatesToCourses: true,
      effectiveImmediately: true,
    });
    expect(lines(results, { [list]: 'list' })).toEqual([`${curriculum.code} list: succeeded`]);
    const [property] = (await t.get(`/v1/curricula/${curriculum.id}/access-properties`)).items;
    expect(property).toMatchObject({
      objectType: 'curriculum',
      listId: list,
      restrictVisibility: true,
      enrol: true,
      enrolment: {
        option: 'mandatory',
        datesMode: 'relative',
        startDelayDays: 2,
        endDelayDays: 30,
        applyOptionToCourses: true,
        carryDatesToCourses: true,
        effectiveImmediately: true,
      },
    });
    expect(property.enrolment.objectiveDelayDays).toBeUndefined();

    const given = (entered: string) => ({
      startDate: dayPlus(entered, 2),
      objectiveDate: '',
      endDate: dayPlus(entered, 30),
      option: 'mandatory',
    });
    const e1 = await enteredAt(list, m1.id);
    expect(dayPlus(e1, 0)).toBe(dayPlus(new Date(), -20));
    expect((await t.curriculumAssignments(m1.id)).get(curriculum.id)).toMatchObject({
      ...given(e1),
      direct: false,
      accessPropertyIds: [property.id],
    });
    for (const course of [c1, c2]) {
      expect((await t.courseAssignments(m1.id)).get(course.id)).toMatchObject({ ...given(e1), curriculumIds: [curriculum.id] });
    }
    // m2's own assignment of c1 is given the curriculum's dates and option.
    const e2 = await enteredAt(list, m2.id);
    expect((await t.courseAssignments(m2.id)).get(c1.id)).toMatchObject({ ...given(e2), direct: true, curriculumIds: [curriculum.id] });
    expect((await t.courseAssignments(m2.id)).get(c2.id)).toMatchObject(given(e2));
    const events = await t.eventsOf(run, 'ASSIGNMENT');
    expect(
      events
        .filter((e) => e.subject === 'assignment.visibility.changed.v1')
        .map((e) => [e.data.userId, e.data.objectType, e.data.objectId, e.data.visible])
        .sort(),
    ).toEqual(
      [
        [m1.id, 'OBJECT_TYPE_CURRICULUM', curriculum.id, true],
        [m2.id, 'OBJECT_TYPE_CURRICULUM', curriculum.id, true],
      ].sort(),
    );
    expect(subjects(events).filter((s) => s === 'assignment.curriculum.assigned.v1')).toHaveLength(2);

    await t.post(`/v1/lists/${list}/members`, { userIds: [m3.id] });
    const joined = await t.eventually(async () => (await t.curriculumAssignments(m3.id)).get(curriculum.id), 'm3 enrolled');
    const e3 = await enteredAt(list, m3.id);
    expect(joined).toMatchObject({ ...given(e3), accessPropertyIds: [property.id] });
    const courses = await t.eventually(async () => {
      const found = await t.courseAssignments(m3.id);
      return found.size === 2 ? found : undefined;
    }, 'm3 has the courses');
    for (const course of [c1, c2]) expect(courses.get(course.id)).toMatchObject({ ...given(e3), curriculumIds: [curriculum.id] });
  });

  it('P4 without carry-over nor effective immediately: members without dates, courses Free; a user joining later gets the fixed dates on the curriculum only', async () => {
    const {
      curriculum,
      courses: [c1],
    } = await newPath(1);
    const [m1, m2] = await t.newUsers(2);
    const list = await t.newList([m1.id]);
    const { results } = await t.curricula('P4', [curriculum.id], {
      listId: list,
      enrol: true,
      option: 'recommended',
      datesMode: 'fixed',
      startDate: '2027-01-04',
      endDate: '2027-02-26',
    });
    expect(results.map((r) => r.outcome)).toEqual(['succeeded']);
    expect((await t.curriculumAssignments(m1.id)).get(curriculum.id)).toMatchObject({ startDate: '', endDate: '', option: 'recommended' });
    expect((await t.courseAssignments(m1.id)).get(c1.id)).toMatchObject({ startDate: '', endDate: '', option: 'free' });

    await t.post(`/v1/lists/${list}/members`, { userIds: [m2.id] });
    const joined = await t.eventually(async () => (await t.curriculumAssignments(m2.id)).get(curriculum.id), 'm2 enrolled');
    expect(joined).toMatchObject({ startDate: '2027-01-04', endDate: '2027-02-26', option: 'recommended' });
    const course = await t.eventually(async () => (await t.courseAssignments(m2.id)).get(c1.id), 'm2 has the course');
    expect(course).toMatchObject({ startDate: '', endDate: '', option: 'free', curriculumIds: [curriculum.id] });

    const refused = await t.startRun({
      assistant: 'curricula',
      action: 'P4',
      selection: { type: 'ids', ids: [curriculum.id] },
      params: { listId: UNKNOWN_ID, enrol: true },
    });
    expect([refused.status, refused.body.field]).toEqual([400, 'params.listId']);
  });
});
