// Demo progress (part of `npm run demo:load`): learners with assignments and something done,
// so that the statistics, the export and a user merge show something real. Everything goes
// through runs, as an administrator would do it: the onboarding curriculum assigned (U12) to
// the users of promotion 2024, then the statistics assistant (S1) setting lessons for bands
// of them (from browsed to completed, a failed test, scores, time spent), and competency
// scores (U20). The same every time: bands are taken by position in the run's results.
import type { Call } from './demo-catalog';

const CURRICULUM = 'PATH-ONBOARDING';
/** Lesson types that take a score (see services/statistics/README.md). */
const WITH_TEST = new Set(['A', 'L', 'T']);

/** Whether the demo progress is there: a statistics assistant run was made. */
export async function progressLoaded(call: Call): Promise<boolean> {
  const { items } = await call<{ items: { action: string }[] }>('GET', '/v1/runs?limit=200');
  return items.some((r) => r.action === 'S1');
}

async function runToEnd(call: Call, body: object): Promise<string> {
  const run = await call<{ id: string }>('POST', '/v1/runs', body);
  for (;;) {
    const seen = await call<{ status: string; failed: number }>('GET', `/v1/runs/${run.id}`);
    if (seen.status === 'completed' || seen.status === 'cancelled') return run.id;
    await new Promise((done) => setTimeout(done, 200));
  }
}

async function succeededItems(call: Call, runId: string): Promise<string[]> {
  const ids = new Set<string>();
  let after = '';
  do {
    const page = await call<{ items: { itemId: string }[]; nextCursor: string }>(
      'GET',
      `/v1/runs/${runId}/results?outcome=succeeded&limit=1000${after ? `&after=${after}` : ''}`,
    );
    page.items.forEach((r) => ids.add(r.itemId));
    after = page.nextCursor;
  } while (after);
  return [...ids];
}

export async function loadProgress(call: Call) {
  const found = await call<{ items: { id: string; code: string }[] }>('POST', '/v1/curricula/search', { filter: { code: CURRICULUM } });
  const curriculum = found.items.find((c) => c.code === CURRICULUM);
  if (!curriculum) throw new Error(`no curriculum ${CURRICULUM}: load the catalogue first`);
  const { courseIds } = await call<{ courseIds: string[] }>('GET', `/v1/curricula/${curriculum.id}`);
  const courses = await Promise.all(
    courseIds.map((id) => call<{ id: string; code: string; lessons: { id: string; type: string }[] }>('GET', `/v1/courses/${id}`)),
  );

  const assigned = await runToEnd(call, {
    assistant: 'users',
    action: 'U12',
    selection: { type: 'filter', filter: { custom1: '2024' } },
    params: { curriculumIds: [curriculum.id], ignoreAudiences: true, option: 'mandatory', startDate: '2026-09-01', endDate: '2026-12-31' },
  });
  const learners = await succeededItems(call, assigned);
  // The statistics service learns of the assignments from their events: wait until it has.
  const last = learners[learners.length - 1];
  for (let tries = 0; last && tries < 600; tries++) {
    const progress = await call<{ curricula: unknown[]; courses: { lessons: unknown[] }[] }>('GET', `/v1/users/${last}/progress`);
    if (progress.curricula.length > 0 && progress.courses.length === courses.length && progress.courses.every((c) => c.lessons.length > 0))
      break;
    await new Promise((done) => setTimeout(done, 500));
  }

  // Five bands: nothing yet; browsing the first course; the first course done; a failed test on
  // the way; everything done (the curriculum completed).
  const band = (n: number) => learners.filter((_, i) => i % 5 === n);
  const s1 = (userIds: string[], courseIndex: number, lessonIndex: number, status: string, extra: object = {}) => {
    const course = courses[courseIndex];
    const lesson = course?.lessons[lessonIndex];
    if (!lesson || userIds.length === 0) return Promise.resolve('');
    const score = WITH_TEST.has(lesson.type) && (status === 'passed' || status === 'failed' || status === 'completed');
    return runToEnd(call, {
      assistant: 'users',
      action: 'S1',
      selection: { type: 'ids', ids: userIds },
      params: {
        courseId: course.id,
        lessonId: lesson.id,
        status,
        statusDate: `2026-10-${String(10 + courseIndex * 3 + lessonIndex).padStart(2, '0')}`,
        timeSpentSeconds: 300 + 120 * lessonIndex,
        ...(score ? { score: status === 'failed' ? 35 : 70 + 5 * ((courseIndex + lessonIndex) % 6) } : {}),
        ...extra,
      },
    });
  };
  const finish = (type: string) => (WITH_TEST.has(type) ? 'passed' : 'completed');
  let runs = 0;
  await s1(band(1), 0, 0, 'browsed');
  runs++;
  for (const users of [band(2), band(3), band(4)]) {
    for (const [l, lesson] of courses[0].lessons.entries()) {
      await s1(users, 0, l, finish(lesson.type));
      runs++;
    }
  }
  const failing = courses[1]?.lessons.findIndex((l) => WITH_TEST.has(l.type)) ?? -1;
  if (failing >= 0) {
    await s1(band(3), 1, failing, 'failed');
    runs++;
  }
  for (let c = 1; c < courses.length; c++) {
    for (const [l, lesson] of courses[c].lessons.entries()) {
      await s1(band(4), c, l, finish(lesson.type));
      runs++;
    }
  }

  const competencies = await call<{ items: { id: string }[] }>('GET', '/v1/catalog/competencies');
  const scored = competencies.items.slice(0, 2).map((c) => c.id);
  if (scored.length > 0 && band(4).length > 0) {
    await runToEnd(call, {
      assistant: 'users',
      action: 'U20',
      selection: { type: 'ids', ids: band(4) },
      params: { competencyIds: scored, score: 80 },
    });
    await runToEnd(call, {
      assistant: 'users',
      action: 'U20',
      selection: { type: 'ids', ids: band(3) },
      params: { competencyIds: scored.slice(0, 1), notEvaluated: true },
    });
  }
  console.log(
    `progress: ${CURRICULUM} assigned to ${learners.length} learners (promo 2024); ${runs} statistics assistant runs ` +
      '(browsed, first course done, a failed test, everything done); competency scores',
  );
}
