import { PrintLevel } from '@assistants/proto/gen/assessment/v1/print';
import { actingAs, pdfTexts, refusal, type TestStack } from '@assistants/testing';
import { createTest, scopedAdministrator, startAssessmentStack, type AssessmentStack } from './assessment-support';

/**
 * T3 over real HTTP: POST /v1/tests/print answers one PDF of several tests, read back with
 * PDF.js. ROOT > EU > FR, ROOT > US: fr-tests holds tests:read on FR only — asking for a US
 * test with a FR one refuses the whole request (404 naming it); nobody holds tests:read (403).
 */
let stack: TestStack;
let org: AssessmentStack['org'];
const test: Record<string, string> = {};
let frTests: string;
let nobody: string;

const newTest = (externalId: string, title: string, organisationId: string) => ({
  externalId,
  title,
  description: 'Révisions de sécurité',
  organisationId,
  passingScorePercent: 75,
  blocks: [
    {
      title: 'Les fruits',
      questions: [
        {
          type: 'multiple_choice',
          title: 'Choisissez les fruits',
          text: 'Lesquels poussent sur un arbre ?',
          media: [{ type: 'image', url: 'https://media.example/verger.png' }],
          choices: [
            { id: 'apple', label: 'Pomme' },
            { id: 'leek', label: 'Poireau' },
            { id: 'pear', label: 'Poire' },
          ],
          expected: { choiceIds: ['apple', 'pear'] },
          maxScore: 2,
        },
        { type: 'numeric', title: 'Combien de pépins ?', expected: { value: 5, tolerance: 1 }, maxScore: 1 },
      ],
    },
  ],
});

const print = (body: object, auth?: string | null) => stack.http('POST', '/v1/tests/print', { body, auth });

beforeAll(async () => {
  ({ stack, org, nobody } = await startAssessmentStack());
  frTests = (await scopedAdministrator(stack, 'fr-tests', org.FR, ['tests:read'])).auth;
  test.FR = await createTest(stack, newTest('Q-FR', 'Épreuve française', org.FR));
  test.US = await createTest(stack, newTest('Q-US', 'Épreuve américaine', org.US));
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

it('prints several tests into one PDF at each level, as an attachment; accents kept', async () => {
  const maximum = await print({ testIds: [test.US, test.FR], level: 'maximum' });
  expect(maximum.status).toBe(200);
  expect(maximum.headers.get('content-type')).toBe('application/pdf');
  expect(maximum.headers.get('content-disposition')).toMatch(/^attachment; filename="tests-2-\d{4}-\d{2}-\d{2}\.pdf"$/);
  const minimum = await print({ testIds: [test.FR], level: 'minimum' });
  expect([minimum.status, minimum.headers.get('content-disposition')]).toEqual([200, 'attachment; filename="Q-FR.pdf"']);
  const bare = await print({ testIds: [test.FR], level: 'questions', hideTitles: true, hideMedia: true });
  expect(bare.status).toBe(200);

  const [max, min, questions] = (await pdfTexts([maximum.raw, minimum.raw, bare.raw])).map((pages) => pages.join('\n'));
  expect(max.indexOf('Épreuve américaine')).toBeLessThan(max.indexOf('Épreuve française'));
  for (const shown of [
    'Pass mark: 75%',
    'Description: Révisions de sécurité',
    'Expected answer: Pomme; Poire',
    'Expected answer: 5 (± 1)',
  ]) {
    expect(max).toContain(shown);
  }
  for (const shown of [
    'Épreuve française',
    'Question 1. Choisissez les fruits',
    'Lesquels poussent sur un arbre ?',
    'Poireau',
    'verger.png',
  ]) {
    expect(min).toContain(shown);
  }
  expect(min).not.toContain('Expected answer');
  expect(min).not.toContain('Pass mark');
  expect(questions).toContain('Poireau');
  for (const hidden of ['Choisissez les fruits', 'Combien de pépins', 'verger.png', 'Expected answer'])
    expect(questions).not.toContain(hidden);
});

it('a scoped administrator prints only tests in its scope: one outside refuses the whole request (404 naming it)', async () => {
  const outside = await print({ testIds: [test.FR, test.US], level: 'minimum' }, frTests);
  expect([outside.status, outside.body.field]).toEqual([404, 'testIds[1]']);
  expect(outside.body.message).toContain(test.US);
  expect(outside.headers.get('content-type')).toContain('application/json');
  const inside = await print({ testIds: [test.FR], level: 'maximum' }, frTests);
  expect([inside.status, inside.headers.get('content-type')]).toEqual([200, 'application/pdf']);

  expect((await print({ testIds: [test.FR], level: 'minimum' }, nobody)).status).toBe(403);
  expect((await print({ testIds: [test.FR], level: 'minimum' }, null)).status).toBe(401);
});

it('refuses bad requests naming the field: unknown test, too many tests, hiding outside the questions level', async () => {
  const unknown = await print({ testIds: [test.FR, '00000000-0000-4000-8000-000000000000'], level: 'minimum' });
  expect([unknown.status, unknown.body.field]).toEqual([404, 'testIds[1]']);
  const tooMany = await print({ testIds: Array.from({ length: 101 }, () => test.FR), level: 'minimum' });
  expect(tooMany.status).toBe(400);
  expect(JSON.stringify(tooMany.body)).toContain('testIds');
  const hide = await print({ testIds: [test.FR], level: 'maximum', hideTitles: true });
  expect([hide.status, hide.body.field]).toEqual([400, 'hideTitles']);
  const level = await print({ testIds: [test.FR], level: 'everything' });
  expect(level.status).toBe(400);

  // The service's own checks, for gRPC callers the gateway's schema does not stand before.
  const grpc = actingAs(stack.assessment.client, stack.fixture.adminId);
  const plain = { hideTitles: false, hideMedia: false };
  const cap = await refusal(grpc.print.printTests({ testIds: Array(101).fill(test.FR), level: PrintLevel.PRINT_LEVEL_MINIMUM, ...plain }));
  expect([cap.code, cap.field, cap.message]).toEqual([
    'INVALID_ARGUMENT',
    'testIds',
    'at most 100 tests can be printed at once (101 given)',
  ]);
  const none = await refusal(grpc.print.printTests({ testIds: [test.FR], level: PrintLevel.PRINT_LEVEL_UNSPECIFIED, ...plain }));
  expect([none.code, none.field]).toEqual(['INVALID_ARGUMENT', 'level']);
  const bad = await refusal(grpc.print.printTests({ testIds: [test.FR, 'nope'], level: PrintLevel.PRINT_LEVEL_MINIMUM, ...plain }));
  expect([bad.code, bad.field]).toEqual(['INVALID_ARGUMENT', 'testIds[1]']);
  const repeated = await grpc.print.printTests({
    testIds: [test.FR, test.FR.toUpperCase()],
    level: PrintLevel.PRINT_LEVEL_MINIMUM,
    ...plain,
  });
  expect([repeated.filename, repeated.pageCount]).toEqual(['Q-FR.pdf', 1]);
});
