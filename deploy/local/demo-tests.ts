// Demo tests (part of `npm run demo:load`): three tests (épreuves) with blocks and questions of
// every type, one of them played as a lesson of SAF-101 (so that the statistics follow its
// attempts), and attempts by a few users of promotion 2024 — some passed, some failed, one
// left incomplete — so that the test assistant's T1 (score editing) and T2 (deleting a
// result) have something to show. The same every time (no random choice).
import type { Call } from './demo-catalog';

const PREFIX = 'DEMO-TEST-';

/** Whether the demo tests are there. */
export async function testsLoaded(call: Call): Promise<boolean> {
  return (await call<{ total: number }>('POST', '/v1/tests/search', { filter: { text: PREFIX }, limit: 1 })).total > 0;
}

const choices = (...labels: string[]) => labels.map((label, i) => ({ id: String.fromCharCode(97 + i), label }));

interface QuestionSpec {
  type: string;
  title: string;
  text: string;
  media?: { type: string; url: string }[];
  choices?: unknown;
  expected: any;
  maxScore: number;
}

interface TestSpec {
  externalId: string;
  title: string;
  description: string;
  organisation: 'ROOT' | 'DEMO-FR';
  lesson?: { course: string; index: number };
  passingScorePercent?: number;
  blocks: { title: string; questions: QuestionSpec[] }[];
}

const TESTS: TestSpec[] = [
  {
    externalId: `${PREFIX}FIRE`,
    title: 'Fire safety quiz',
    description: 'Checks the essentials of SAF-101: classes of fire, extinguishers, evacuation.',
    organisation: 'ROOT',
    lesson: { course: 'SAF-101', index: 1 },
    passingScorePercent: 70,
    blocks: [
      {
        title: 'Fire',
        questions: [
          {
            type: 'single_choice',
            title: 'Class of fire',
            text: 'A fire of burning cooking oil is of class…',
            choices: choices('A', 'B', 'F'),
            expected: { choiceId: 'c' },
            maxScore: 2,
          },
          {
            type: 'multiple_choice',
            title: 'Extinguishers for electrical fires',
            text: 'Which extinguishers may be used on live electrical equipment?',
            media: [{ type: 'image', url: 'https://example.org/demo/extinguishers.png' }],
            choices: choices('CO2', 'Water', 'Dry powder', 'Foam'),
            expected: { choiceIds: ['a', 'c'] },
            maxScore: 3,
          },
          {
            type: 'true_false',
            title: 'Lifts',
            text: 'Lifts may be used to evacuate during a fire.',
            expected: { value: false },
            maxScore: 1,
          },
        ],
      },
      {
        title: 'Evacuation',
        questions: [
          {
            type: 'ordering',
            title: 'On hearing the alarm',
            text: 'Put the steps in order.',
            choices: choices('Leave by the nearest exit', 'Stop working', 'Go to the assembly point'),
            expected: { order: ['b', 'a', 'c'] },
            maxScore: 2,
          },
          {
            type: 'fill_in',
            title: 'Assembly point',
            text: 'Once outside, go to the ___ point.',
            expected: { blanks: [['assembly', 'Assembly']] },
            maxScore: 2,
          },
        ],
      },
    ],
  },
  {
    externalId: `${PREFIX}GDPR`,
    title: 'Data protection check',
    description: 'Personal data, legal bases and breaches.',
    organisation: 'DEMO-FR',
    passingScorePercent: 60,
    blocks: [
      {
        title: 'Principles',
        questions: [
          {
            type: 'matching',
            title: 'Legal bases',
            text: 'Match each processing with its legal basis.',
            choices: { left: choices('Payroll', 'Newsletter'), right: choices('Contract', 'Consent') },
            expected: {
              pairs: [
                { left: 'a', right: 'a' },
                { left: 'b', right: 'b' },
              ],
            },
            maxScore: 2,
          },
          {
            type: 'numeric',
            title: 'Notification deadline',
            text: 'Within how many hours must a breach be notified to the authority?',
            expected: { value: 72 },
            maxScore: 2,
          },
          {
            type: 'free_text',
            title: 'Personal data',
            text: 'In your own words, what is personal data?',
            expected: { modelAnswer: 'Any information relating to an identified or identifiable person.' },
            maxScore: 4,
          },
        ],
      },
    ],
  },
  {
    externalId: `${PREFIX}EXCEL`,
    title: 'Spreadsheet skills',
    description: 'Formulas and references.',
    organisation: 'ROOT',
    blocks: [
      {
        title: 'Formulas',
        questions: [
          {
            type: 'single_choice',
            title: 'Absolute reference',
            text: 'Which reference stays fixed when copied?',
            choices: choices('A1', '$A$1', 'A$1'),
            expected: { choiceId: 'b' },
            maxScore: 1,
          },
          { type: 'numeric', title: 'SUM', text: '=SUM(2, 3, 4) gives…', expected: { value: 9 }, maxScore: 1 },
        ],
      },
    ],
  },
];

/** The answers of a learner of "level" 0 (weak) to 3 (strong) to a question, with its score. */
function answer(q: QuestionSpec, level: number): { given: unknown; score: number } {
  const right = level >= 2 || (level === 1 && q.maxScore <= 2);
  const full = { score: right ? q.maxScore : 0 };
  switch (q.type) {
    case 'single_choice':
      return { given: { choiceId: right ? q.expected.choiceId : 'a' === q.expected.choiceId ? 'b' : 'a' }, ...full };
    case 'multiple_choice':
      return right
        ? { given: q.expected, ...full }
        : { given: { choiceIds: [q.expected.choiceIds[0]] }, score: Math.floor(q.maxScore / 2) };
    case 'true_false':
      return { given: { value: right ? q.expected.value : !q.expected.value }, ...full };
    case 'ordering':
      return { given: right ? q.expected : { order: [...q.expected.order].reverse() }, ...full };
    case 'fill_in':
      return { given: { blanks: [right ? q.expected.blanks[0][0] : 'meeting'] }, ...full };
    case 'matching':
      return {
        given: right
          ? q.expected
          : { pairs: q.expected.pairs.map((p: any, i: number, all: any[]) => ({ left: p.left, right: all[(i + 1) % all.length].right })) },
        ...full,
      };
    case 'numeric':
      return { given: { value: right ? q.expected.value : q.expected.value * 2 }, ...full };
    default:
      // Free text: graded by hand, part of the points.
      return { given: { text: right ? 'Information about a person who can be identified.' : 'Names.' }, score: right ? q.maxScore - 1 : 1 };
  }
}

export async function loadTests(call: Call) {
  const organisations = async (query: string) =>
    (await call<{ items: { id: string; extId: string }[] }>('GET', `/v1/organisations?query=${query}`)).items;
  const root = (await call<{ items: { id: string; parentId: string }[] }>('GET', '/v1/organisations')).items[0];
  const france = (await organisations('DEMO-FR')).find((o) => o.extId === 'DEMO-FR');
  const orgIds: Record<string, string> = { ROOT: root.id, 'DEMO-FR': france?.id ?? root.id };
  const learners = (
    await call<{ items: { id: string }[] }>('POST', '/v1/users/search', { filter: { custom1: '2024' }, limit: 6 })
  ).items.map((u) => u.id);

  for (const spec of TESTS) {
    let courseId = '';
    let lessonId = '';
    if (spec.lesson) {
      const found = await call<{ items: { id: string; code: string }[] }>('POST', '/v1/courses/search', {
        filter: { code: spec.lesson.course },
        limit: 1,
      });
      const course = found.items[0] && (await call<{ id: string; lessons: { id: string }[] }>('GET', `/v1/courses/${found.items[0].id}`));
      if (course) [courseId, lessonId] = [course.id, course.lessons[spec.lesson.index].id];
    }
    const { organisation, lesson: _lesson, ...fields } = spec;
    const test = await call<{ id: string; blocks: { questions: { id: string }[] }[] }>('POST', '/v1/tests', {
      ...fields,
      organisationId: orgIds[organisation],
      courseId,
      lessonId,
    });
    const questions = spec.blocks.flatMap((b) => b.questions);
    const ids = test.blocks.flatMap((b) => b.questions.map((q) => q.id));
    for (const [i, userId] of learners.entries()) {
      const level = i % 4;
      // Weak learners try twice; the last learner leaves the test unfinished.
      const tries = level === 0 ? 2 : 1;
      for (let t = 0; t < tries; t++) {
        const answers = questions.map((q, k) => ({ questionId: ids[k], durationSeconds: 30 + 10 * k, ...answer(q, level + t) }));
        await call('POST', `/v1/tests/${test.id}/attempts`, {
          userId,
          startedAt: new Date(Date.UTC(2026, 9, 5 + i, 9 + t, 0, 0)).toISOString(),
          durationSeconds: answers.reduce((sum, a) => sum + a.durationSeconds, 0),
          incomplete: i === learners.length - 1,
          answers,
        });
      }
    }
  }
  // admin-fr may also manage France's tests and its users' results: logged in as admin-fr,
  // the test assistant shows DEMO-TEST-GDPR and not the others.
  const role = await call<{ id: string }>('POST', '/v1/roles', {
    name: 'Test manager',
    description: 'tests and results (test assistant)',
    permissions: ['tests:read', 'tests:write', 'results:read', 'results:write'],
  });
  const adminFr = (
    await call<{ items: { id: string; login: string }[] }>('POST', '/v1/users/search', { filter: { login: 'admin-fr' }, limit: 5 })
  ).items.find((u) => u.login === 'admin-fr');
  if (adminFr && france) await call('POST', `/v1/users/${adminFr.id}/roles`, { roleIds: [role.id], organisationId: france.id });
  console.log(`${TESTS.length} tests with attempts by ${learners.length} learners (test assistant: T1, T2); admin-fr manages France's`);
}
