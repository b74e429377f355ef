import type { AssessmentClient } from '@assistants/assessment/client';
import type { Attempt as ProtoAttempt } from '@assistants/proto/gen/assessment/v1/attempts';
import type { QuestionInput, Test as ProtoTest, TestFilter as ProtoTestFilter } from '@assistants/proto/gen/assessment/v1/tests';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import { Id, IdParams, NoContent, OneOf, PageBody, Paged, responses } from '../schemas/common';

/*
 * The test assistant (épreuves): tests with their blocks and questions, their search and
 * selection, users' attempts, T1 (score editing) and T2 (deleting an attempt). A question's
 * choices, expected and given answers are JSON values whose shape depends on its type (see
 * services/assessment/src/questions.ts); the contracts carry them as JSON text.
 */

const tags = ['tests'];
const QUESTION_TYPES = [
  'single_choice',
  'multiple_choice',
  'true_false',
  'matching',
  'ordering',
  'fill_in',
  'numeric',
  'free_text',
] as const;
const Json = (description: string) => Type.Unknown({ description });
const Points = Type.Number({ minimum: 0, maximum: 1_000_000, description: 'points, at most 2 decimals' });
const IdOrNone = (description: string) => Type.String({ pattern: '^([0-9a-fA-F-]{36})?$', description });

const Media = Type.Object(
  {
    type: OneOf(['image', 'audio', 'video', 'document'] as const),
    url: Type.String({ minLength: 1, maxLength: 2000, description: 'a URL or a media id' }),
  },
  { additionalProperties: false },
);

const questionFields = {
  type: OneOf(QUESTION_TYPES),
  title: Type.String({ minLength: 1, maxLength: 500 }),
  text: Type.Optional(Type.String({ maxLength: 10_000 })),
  media: Type.Optional(Type.Array(Media, { maxItems: 20 })),
  choices: Type.Optional(
    Json('by type: a list of {id, label}; {left, right} lists for matching; null for true_false, fill_in, numeric, free_text'),
  ),
  expected: Type.Optional(Json('by type: {choiceId}, {choiceIds}, {value}, {pairs}, {order}, {blanks}, {value, tolerance}, {modelAnswer}')),
  maxScore: Points,
};

const NewQuestion = Type.Object(questionFields, { additionalProperties: false });
const NewBlock = Type.Object(
  { title: Type.String({ minLength: 1, maxLength: 255 }), questions: Type.Array(NewQuestion, { maxItems: 500 }) },
  { additionalProperties: false },
);

const testFields = {
  externalId: Type.String({ minLength: 1, maxLength: 100 }),
  title: Type.String({ minLength: 1, maxLength: 255 }),
  description: Type.Optional(Type.String({ maxLength: 10_000 })),
  organisationId: Id,
  courseId: Type.Optional(IdOrNone('the course whose lesson plays the test, "" for none')),
  lessonId: Type.Optional(IdOrNone('that lesson, "" for none')),
  passingScorePercent: Type.Optional(Type.Number({ minimum: 0, maximum: 100, description: 'passed at or above it; absent: completed' })),
};

const NewTest = Type.Object({ ...testFields, blocks: Type.Array(NewBlock, { maxItems: 100 }) }, { additionalProperties: false });
const TestUpdate = Type.Object(
  {
    ...testFields,
    blocks: Type.Optional(Type.Array(NewBlock, { maxItems: 100, description: 'replaces them (refused once the test has attempts)' })),
  },
  { additionalProperties: false },
);

export const Test = Type.Object(
  {
    id: Type.String(),
    externalId: Type.String(),
    title: Type.String(),
    description: Type.String(),
    organisationId: Type.String(),
    courseId: Type.String(),
    lessonId: Type.String(),
    passingScorePercent: Type.Union([Type.Number(), Type.Null()]),
    maxScore: Type.Number(),
    blocks: Type.Array(
      Type.Object({
        id: Type.String(),
        title: Type.String(),
        questions: Type.Array(
          Type.Object({
            id: Type.String(),
            type: Type.String(),
            title: Type.String(),
            text: Type.String(),
            media: Type.Array(Type.Object({ type: Type.String(), url: Type.String() })),
            choices: Json('see the question types'),
            expected: Json('see the question types'),
            maxScore: Type.Number(),
          }),
        ),
      }),
    ),
    createdAt: Type.String(),
    updatedAt: Type.String(),
  },
  { $id: 'Test' },
);

export const TestSummary = Type.Object(
  {
    id: Type.String(),
    externalId: Type.String(),
    title: Type.String(),
    organisationId: Type.String(),
    courseId: Type.String(),
    lessonId: Type.String(),
    questionCount: Type.Integer(),
    attemptCount: Type.Integer(),
  },
  { $id: 'TestSummary' },
);

const TestFilter = Type.Object(
  {
    text: Type.Optional(Type.String({ maxLength: 255, description: 'contained in the title, external id or description' })),
    organisationId: Type.Optional(IdOrNone("tests of this organisation's sub-tree")),
    courseId: Type.Optional(IdOrNone('tests played in this course')),
  },
  { additionalProperties: false },
);

const excludeIds = Type.Optional(Type.Array(Id, { maxItems: 100_000, description: 'removed at the recap' }));
const TestSelection = Type.Union(
  [
    Type.Object({ type: Type.Literal('ids'), ids: Type.Array(Id, { maxItems: 100_000 }), excludeIds }, { additionalProperties: false }),
    Type.Object({ type: Type.Literal('filter'), filter: TestFilter, excludeIds }, { additionalProperties: false }),
  ],
  { description: 'these ids or everything a filter matches; minus excludeIds' },
);

export const Attempt = Type.Object(
  {
    id: Type.String(),
    testId: Type.String(),
    testTitle: Type.String(),
    userId: Type.String(),
    startedAt: Type.String(),
    durationSeconds: Type.Integer(),
    score: Type.Number(),
    maxScore: Type.Number(),
    scorePercent: Type.Number(),
    status: Type.String({ description: 'passed, failed, completed (no pass mark) or incomplete' }),
    blocks: Type.Array(Type.Object({ blockId: Type.String(), title: Type.String(), score: Type.Number(), maxScore: Type.Number() })),
    answers: Type.Array(
      Type.Object({
        questionId: Type.String(),
        blockId: Type.String(),
        type: Type.String(),
        title: Type.String(),
        text: Type.String(),
        maxScore: Type.Number(),
        choices: Json('as the question had them'),
        expected: Json('the expected answer'),
        given: Json('the answer given (read-only)'),
        score: Type.Number(),
        durationSeconds: Type.Integer(),
      }),
    ),
  },
  { $id: 'Attempt' },
);

const NewAttempt = Type.Object(
  {
    userId: Id,
    startedAt: Type.Optional(Type.String({ maxLength: 40, description: 'RFC 3339; absent: now' })),
    durationSeconds: Type.Integer({ minimum: 0 }),
    incomplete: Type.Optional(Type.Boolean()),
    answers: Type.Array(
      Type.Object(
        { questionId: Id, given: Json('the answer, by the question type'), score: Points, durationSeconds: Type.Integer({ minimum: 0 }) },
        { additionalProperties: false },
      ),
      { maxItems: 500 },
    ),
  },
  { additionalProperties: false },
);

const ScoreEdit = Type.Object(
  {
    scores: Type.Array(Type.Object({ questionId: Id, score: Points }, { additionalProperties: false }), {
      minItems: 1,
      maxItems: 500,
      description: 'new scores, each at most the question’s maxScore',
    }),
  },
  { additionalProperties: false },
);

export const ASSESSMENT_SCHEMAS = [Test, TestSummary, Attempt];

const parse = (text: string): unknown => (text === '' ? null : JSON.parse(text));
const text = (value: unknown): string => (value === undefined || value === null ? '' : JSON.stringify(value));

const toHttpTest = (t: ProtoTest) => ({
  ...t,
  passingScorePercent: t.passingScorePercent ?? null,
  blocks: t.blocks.map((b) => ({
    ...b,
    questions: b.questions.map(({ choicesJson, expectedJson, ...q }) => ({
      ...q,
      choices: parse(choicesJson),
      expected: parse(expectedJson),
    })),
  })),
});

const toHttpAttempt = (a: ProtoAttempt) => ({
  ...a,
  answers: a.answers.map(({ choicesJson, expectedJson, givenJson, ...rest }) => ({
    ...rest,
    choices: parse(choicesJson),
    expected: parse(expectedJson),
    given: parse(givenJson),
  })),
});

function toProtoFields(body: Static<typeof TestUpdate>) {
  return {
    externalId: body.externalId,
    title: body.title,
    description: body.description ?? '',
    organisationId: body.organisationId,
    courseId: body.courseId ?? '',
    lessonId: body.lessonId ?? '',
    passingScorePercent: body.passingScorePercent,
  };
}

const toProtoBlocks = (blocks: Static<typeof NewBlock>[]) =>
  blocks.map((b) => ({
    title: b.title,
    questions: b.questions.map((q): QuestionInput => ({
      type: q.type,
      title: q.title,
      text: q.text ?? '',
      media: q.media ?? [],
      choicesJson: text(q.choices),
      expectedJson: text(q.expected),
      maxScore: q.maxScore,
    })),
  }));

const toProtoFilter = (f: Static<typeof TestFilter>): ProtoTestFilter => ({
  text: f.text ?? '',
  organisationId: f.organisationId ?? '',
  courseId: f.courseId ?? '',
});

export const assessmentRoutes: FastifyPluginAsyncTypebox<{ assessment: AssessmentClient }> = async (app, { assessment }) => {
  app.post(
    '/v1/tests/search',
    {
      schema: {
        tags,
        summary: 'Tests a filter matches (text in the title, external id or description; an organisation sub-tree; a course), by title',
        body: Type.Object({ filter: TestFilter, ...PageBody }, { additionalProperties: false }),
        response: responses({ 200: Paged(Type.Ref(TestSummary)) }),
      },
      config: { needs: 'tests:read' },
    },
    async (request) => {
      const { filter, limit = 50, offset = 0 } = request.body;
      const { tests, total } = await assessment.tests.searchTests({ filter: toProtoFilter(filter), page: { limit, offset } });
      return { items: tests, total, limit, offset };
    },
  );

  app.post(
    '/v1/selections/tests/resolve',
    {
      schema: {
        tags: ['selections'],
        summary: 'One page of the tests a selection stands for, and the exact total',
        description:
          'A selection is {type: "ids", ids} or {type: "filter", filter}, each with optional excludeIds (tests removed at the recap).',
        body: Type.Object({ selection: TestSelection, ...PageBody }, { additionalProperties: false }),
        response: responses({ 200: Paged(Type.Ref(TestSummary)) }),
      },
      config: { needs: 'tests:read' },
    },
    async (request) => {
      const { selection, limit = 50, offset = 0 } = request.body;
      const excluded = selection.excludeIds ?? [];
      const { tests, total } = await assessment.tests.resolveTestSelection({
        selection:
          selection.type === 'ids'
            ? { ids: { ids: selection.ids }, excludeIds: excluded }
            : { filter: toProtoFilter(selection.filter), excludeIds: excluded },
        page: { limit, offset },
      });
      return { items: tests, total, limit, offset };
    },
  );

  app.post(
    '/v1/tests',
    {
      schema: { tags, summary: 'Create a test with its blocks and questions', body: NewTest, response: responses({ 201: Type.Ref(Test) }) },
      config: { needs: 'tests:write' },
    },
    async (request, reply) => {
      const { test } = await assessment.tests.createTest({
        fields: toProtoFields(request.body),
        blocks: toProtoBlocks(request.body.blocks),
      });
      return reply.code(201).header('location', `/v1/tests/${test!.id}`).send(toHttpTest(test!));
    },
  );

  app.get(
    '/v1/tests/:id',
    {
      schema: { tags, summary: 'One test with its blocks and questions', params: IdParams, response: responses({ 200: Type.Ref(Test) }) },
      config: { needs: 'tests:read' },
    },
    async (request) => toHttpTest((await assessment.tests.getTest({ id: request.params.id })).test!),
  );

  app.put(
    '/v1/tests/:id',
    {
      schema: {
        tags,
        summary: 'Change a test: every field; blocks, when given, replace its blocks and questions (409 once it has attempts)',
        params: IdParams,
        body: TestUpdate,
        response: responses({ 200: Type.Ref(Test) }),
      },
      config: { needs: 'tests:write' },
    },
    async (request) => {
      const { blocks } = request.body;
      const { test } = await assessment.tests.updateTest({
        id: request.params.id,
        fields: toProtoFields(request.body),
        replaceBlocks: blocks !== undefined,
        blocks: toProtoBlocks(blocks ?? []),
      });
      return toHttpTest(test!);
    },
  );

  app.get(
    '/v1/tests/:id/attempts',
    {
      schema: {
        tags,
        summary: "A user's attempts on a test, newest first (T1, T2: pick the attempt)",
        params: IdParams,
        querystring: Type.Object({ userId: Id }, { additionalProperties: false }),
        response: responses({ 200: Type.Object({ items: Type.Array(Type.Ref(Attempt)) }) }),
      },
      config: { needs: 'results:read' },
    },
    async (request) => {
      const { attempts } = await assessment.attempts.listAttempts({ testId: request.params.id, userId: request.query.userId });
      return { items: attempts.map(toHttpAttempt) };
    },
  );

  app.post(
    '/v1/tests/:id/attempts',
    {
      schema: {
        tags,
        summary: "Record a user's attempt: every question once, with the answer given and its score (the player's, or data loads)",
        params: IdParams,
        body: NewAttempt,
        response: responses({ 201: Type.Ref(Attempt) }),
      },
      config: { needs: 'results:write' },
    },
    async (request, reply) => {
      const b = request.body;
      const { attempt } = await assessment.attempts.recordAttempt({
        testId: request.params.id,
        userId: b.userId,
        startedAt: b.startedAt ?? '',
        durationSeconds: b.durationSeconds,
        incomplete: b.incomplete ?? false,
        answers: b.answers.map((a) => ({
          questionId: a.questionId,
          givenJson: text(a.given),
          score: a.score,
          durationSeconds: a.durationSeconds,
        })),
      });
      return reply.code(201).header('location', `/v1/attempts/${attempt!.id}`).send(toHttpAttempt(attempt!));
    },
  );

  app.get(
    '/v1/attempts/:id',
    {
      schema: {
        tags,
        summary:
          'T1: an attempt with its score (points and %), duration, block scores and every question (type, duration, score, expected and given answers)',
        params: IdParams,
        response: responses({ 200: Type.Ref(Attempt) }),
      },
      config: { needs: 'results:read' },
    },
    async (request) => toHttpAttempt((await assessment.attempts.getAttempt({ id: request.params.id })).attempt!),
  );

  app.patch(
    '/v1/attempts/:id/scores',
    {
      schema: {
        tags,
        summary:
          'T1: new scores for questions of an attempt (never above their maximum; given answers never change); totals, % and status follow',
        params: IdParams,
        body: ScoreEdit,
        response: responses({ 200: Type.Ref(Attempt) }),
      },
      config: { needs: 'results:write' },
    },
    async (request) => {
      const { attempt } = await assessment.attempts.editAttemptScores({ attemptId: request.params.id, scores: request.body.scores });
      return toHttpAttempt(attempt!);
    },
  );

  app.delete(
    '/v1/attempts/:id',
    {
      schema: {
        tags,
        summary: 'T2: delete an attempt (confirm=true required); the lesson’s result falls back to the best remaining attempt',
        params: IdParams,
        querystring: Type.Object({ confirm: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
        response: responses({ 204: NoContent }),
      },
      config: { needs: 'results:write' },
    },
    async (request, reply) => {
      await assessment.attempts.deleteAttempt({ attemptId: request.params.id, confirm: request.query.confirm ?? false });
      return reply.code(204).send(null);
    },
  );
};
