import { betterScore, courseStatus, curriculumStatus, isBetter, type LessonState, type LessonType, type Status } from '../src/rules';

/** "L:completed" is a required lesson of type L; "L?:failed" an optional one. */
function lessons(spec: string): LessonState[] {
  if (!spec) return [];
  return spec.split(' ').map((item) => {
    const [kind, status] = item.split(':');
    return { type: kind[0] as LessonType, optional: kind.endsWith('?'), status: status as Status };
  });
}

describe('a course follows its lessons', () => {
  it.each([
    // nothing touched
    ['', 'not_started'],
    ['L:not_started A:not_started', 'not_started'],
    // every required lesson done: completed, whatever the optional ones and resources
    ['L:completed A:passed', 'completed'],
    ['L:completed L?:not_started', 'completed'],
    ['L:passed L?:failed E:not_started', 'completed'],
    ['W:completed T:completed', 'completed'],
    // a resource never counts: not for completion, but it shows activity
    ['L:completed E:not_started', 'completed'],
    ['L:not_started E:completed', 'incomplete'],
    ['L:not_started E:browsed', 'browsed'],
    ['E:completed', 'incomplete'],
    // every counted lesson optional: all of them are required
    ['L?:completed A?:completed', 'completed'],
    ['L?:completed A?:not_started', 'incomplete'],
    // failed: every required lesson finished, one failed
    ['L:completed A:failed', 'failed'],
    ['A:failed', 'failed'],
    ['L:failed A:not_started', 'incomplete'],
    ['L:completed L?:failed A:incomplete', 'incomplete'],
    // browsed only while every touched lesson is only browsed
    ['L:browsed A:not_started', 'browsed'],
    ['L:browsed A:browsed', 'browsed'],
    ['L:browsed A:incomplete', 'incomplete'],
    ['L:completed A:not_started', 'incomplete'],
    ['L?:browsed A:not_started', 'browsed'],
  ])('%s → %s', (spec, expected) => {
    expect(courseStatus(lessons(spec))).toBe(expected);
  });
});

describe('a curriculum follows its courses', () => {
  it.each([
    [[], 'not_started'],
    [['not_started', 'not_started'], 'not_started'],
    [['completed', 'passed'], 'completed'],
    [['completed', 'failed'], 'failed'],
    [['completed', 'not_started'], 'incomplete'],
    [['failed', 'incomplete'], 'incomplete'],
    [['browsed', 'not_started'], 'browsed'],
    [['browsed', 'completed'], 'incomplete'],
  ] as [Status[], Status][])('%j → %s', (courses, expected) => {
    expect(curriculumStatus(courses)).toBe(expected);
  });
});

describe('a merge keeps the better result', () => {
  const r = (status: Status, score: number | null = null, day: number | null = null) => ({
    status,
    score,
    statusDate: day === null ? null : Date.UTC(2026, 0, day),
  });
  it.each([
    // status first: completed/passed over failed over incomplete over browsed over not started
    [r('completed'), r('failed', 100), true],
    [r('passed'), r('incomplete'), true],
    [r('failed'), r('incomplete', 90), true],
    [r('incomplete'), r('browsed'), true],
    [r('browsed'), r('not_started'), true],
    [r('not_started'), r('browsed'), false],
    // completed and passed rank the same: the score decides, then the date
    [r('passed', 80), r('completed', 70), true],
    [r('completed', 70), r('passed', 80), false],
    [r('completed', 70), r('completed'), true],
    [r('completed', 70, 5), r('completed', 70, 3), true],
    [r('completed', 70, 3), r('completed', 70, 5), false],
    [r('completed', null, 2), r('completed', null, null), true],
    // equal: the kept user's record stays
    [r('failed', 40, 1), r('failed', 40, 1), false],
  ])('%j over %j: %s', (a, b, expected) => {
    expect(isBetter(a, b)).toBe(expected);
  });

  it.each([
    [null, null, null],
    [null, 40, 40],
    [60, null, 60],
    [60, 75, 75],
  ])('competency %s and %s keep %s', (a, b, expected) => {
    expect(betterScore(a, b)).toBe(expected);
  });
});
