import { randomUUID } from 'node:crypto';
import {
  alreadyExists,
  checkId,
  checkIds,
  checkOneOf,
  checkText,
  containsPattern,
  DomainError,
  failedPrecondition,
  invalidArgument,
  notFound,
  Params,
  uniqueViolation,
  type Queryable,
} from '@assistants/kit';
import type { Media as ProtoMedia, Page } from '@assistants/proto/gen/assessment/v1/common';
import { LessonType } from '@assistants/proto/gen/catalog/v1/courses';
import type {
  BlockInput,
  CreateTestRequest,
  ResolveTestSelectionRequest,
  ResolveTestSelectionResponse,
  SearchTestsRequest,
  SearchTestsResponse,
  Test,
  TestFields,
  TestFilter,
  TestSummary,
  UpdateTestRequest,
} from '@assistants/proto/gen/assessment/v1/tests';
import { Caller, requireTestInScope } from './caller';
import type { Deps } from './deps';
import { PERMISSIONS } from './permissions';
import { checkQuestionContent, MEDIA_TYPES, QUESTION_TYPES, toJsonText } from './questions';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;
const MAX_QUESTIONS = 500;

export type TestRow = {
  id: string;
  external_id: string;
  title: string;
  description: string;
  organisation_id: string;
  organisation_path: string[];
  course_id: string | null;
  lesson_id: string | null;
  passing_score_percent: string | null;
  created_at: Date;
  updated_at: Date;
};

type QuestionRow = {
  id: string;
  block_id: string;
  type: string;
  title: string;
  text: string;
  media: ProtoMedia[];
  choices: unknown;
  expected: unknown;
  max_score: string;
};

export async function loadTest(q: Queryable, id: string, lock = false): Promise<TestRow | undefined> {
  const { rows } = await q.query<TestRow>(`SELECT * FROM tests WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [id]);
  return rows[0];
}

/** The test with its blocks and questions, in order. */
export async function toTest(q: Queryable, row: TestRow): Promise<Test> {
  const blocks = (
    await q.query<{ id: string; title: string }>('SELECT id, title FROM test_blocks WHERE test_id = $1 ORDER BY position', [row.id])
  ).rows;
  const questions = (
    await q.query<QuestionRow>(
      'SELECT q.* FROM questions q JOIN test_blocks b ON b.id = q.block_id WHERE q.test_id = $1 ORDER BY b.position, q.position',
      [row.id],
    )
  ).rows;
  const maxScore = questions.reduce((sum, question) => sum + Number(question.max_score), 0);
  return {
    id: row.id,
    externalId: row.external_id,
    title: row.title,
    description: row.description,
    organisationId: row.organisation_id,
    courseId: row.course_id ?? '',
    lessonId: row.lesson_id ?? '',
    passingScorePercent: row.passing_score_percent === null ? undefined : Number(row.passing_score_percent),
    blocks: blocks.map((b) => ({
      id: b.id,
      title: b.title,
      questions: questions
        .filter((question) => question.block_id === b.id)
        .map((question) => ({
          id: question.id,
          type: question.type,
          title: question.title,
          text: question.text,
          media: question.media,
          choicesJson: toJsonText(question.choices),
          expectedJson: toJsonText(question.expected),
          maxScore: Number(question.max_score),
        })),
    })),
    maxScore: Math.round(maxScore * 100) / 100,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

interface CheckedFields {
  externalId: string;
  title: string;
  description: string;
  organisationId: string;
  courseId: string | null;
  lessonId: string | null;
  passingScorePercent: number | null;
}

function checkPoints(field: string, value: number, max = 1_000_000): number {
  if (!Number.isFinite(value) || value < 0 || value > max) throw invalidArgument(field, `${field} must be a number from 0 to ${max}`);
  if (Math.round(value * 100) !== value * 100) throw invalidArgument(field, `${field} takes at most 2 decimals`);
  return value;
}

/** The fields of a test, checked (the organisation in the caller's tests:write scope, the
 * lesson one of the course's). */
async function checkFields(deps: Deps, fields: TestFields | undefined): Promise<CheckedFields & { organisationPath: string[] }> {
  if (!fields) throw invalidArgument('fields', 'fields is required');
  const organisationId = checkId('fields.organisationId', fields.organisationId);
  const courseId = checkId('fields.courseId', fields.courseId, true) || null;
  const lessonId = checkId('fields.lessonId', fields.lessonId, true) || null;
  if ((courseId === null) !== (lessonId === null)) {
    throw invalidArgument(
      courseId ? 'fields.lessonId' : 'fields.courseId',
      'courseId and lessonId go together: the lesson of the course that plays the test',
    );
  }
  const passing = fields.passingScorePercent;
  const checked = {
    externalId: checkText('fields.externalId', fields.externalId, { required: true, max: 100 }),
    title: checkText('fields.title', fields.title, { required: true }),
    description: checkText('fields.description', fields.description, { max: 10_000 }),
    organisationId,
    courseId,
    lessonId,
    passingScorePercent: passing === undefined ? null : checkPoints('fields.passingScorePercent', passing, 100),
  };
  const { organisations } = await deps.upstreams.identity.organisations.getOrganisationsForAction({
    organisationIds: [organisationId],
    permission: PERMISSIONS.testsWrite,
  });
  const organisation = organisations[0];
  if (!organisation?.found || !organisation.inScope) throw notFound(`no organisation with id ${organisationId}`, 'fields.organisationId');
  if (courseId) await checkLesson(deps, courseId, lessonId!);
  return { ...checked, organisationPath: organisation.ancestorIds.map((id) => id.toLowerCase()) };
}

async function checkLesson(deps: Deps, courseId: string, lessonId: string): Promise<void> {
  let courses;
  try {
    ({ courses } = await deps.upstreams.catalog.courses.getCourses({ ids: [courseId] }));
  } catch (err) {
    if (err instanceof DomainError && err.code === 'INVALID_ARGUMENT')
      throw invalidArgument('fields.courseId', `no course with id ${courseId}`);
    throw err;
  }
  if (courses.length === 0) throw invalidArgument('fields.courseId', `no course with id ${courseId}`);
  const lesson = courses[0].lessons.find((l) => l.id.toLowerCase() === lessonId);
  if (!lesson) throw invalidArgument('fields.lessonId', `course ${courses[0].code} has no lesson with id ${lessonId}`);
  // The lesson takes the attempts' score in statistics: only a lesson with a test may.
  if (![LessonType.LESSON_TYPE_A, LessonType.LESSON_TYPE_L, LessonType.LESSON_TYPE_T].includes(lesson.type)) {
    throw invalidArgument('fields.lessonId', `lesson ${lesson.code} has no test (only lessons of types A, L and T take a score)`);
  }
}

/** Blocks and questions as given, checked (each error names blocks[i].questions[j].field). */
function checkBlocks(blocks: BlockInput[]) {
  let count = 0;
  return blocks.map((b, i) => ({
    title: checkText(`blocks[${i}].title`, b.title, { required: true }),
    questions: b.questions.map((question, j) => {
      const field = `blocks[${i}].questions[${j}]`;
      if (++count > MAX_QUESTIONS) throw invalidArgument('blocks', `a test has at most ${MAX_QUESTIONS} questions`);
      const type = checkOneOf(`${field}.type`, question.type, QUESTION_TYPES);
      question.media.forEach((m, k) => {
        checkOneOf(`${field}.media[${k}].type`, m.type, MEDIA_TYPES);
        checkText(`${field}.media[${k}].url`, m.url, { required: true, max: 2_000 });
      });
      return {
        type,
        title: checkText(`${field}.title`, question.title, { required: true, max: 500 }),
        text: checkText(`${field}.text`, question.text, { max: 10_000 }),
        media: question.media.map((m) => ({ type: m.type, url: m.url.trim() })),
        ...checkQuestionContent(field, type, question.choicesJson, question.expectedJson),
        maxScore: checkPoints(`${field}.maxScore`, question.maxScore),
      };
    }),
  }));
}

async function insertBlocks(tx: Queryable, testId: string, blocks: ReturnType<typeof checkBlocks>): Promise<void> {
  for (const [i, b] of blocks.entries()) {
    const blockId = randomUUID();
    await tx.query('INSERT INTO test_blocks (id, test_id, position, title) VALUES ($1, $2, $3, $4)', [blockId, testId, i, b.title]);
    for (const [j, question] of b.questions.entries()) {
      await tx.query(
        `INSERT INTO questions (id, block_id, test_id, position, type, title, text, media, choices, expected, max_score)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
        [
          randomUUID(),
          blockId,
          testId,
          j,
          question.type,
          question.title,
          question.text,
          JSON.stringify(question.media),
          JSON.stringify(question.choices),
          JSON.stringify(question.expected),
          question.maxScore,
        ],
      );
    }
  }
}

/** Writes a test's row: `sql` (its INSERT or UPDATE) takes the id as $1 and the fields as $2 to
 * $9. An external id another test has is ALREADY_EXISTS. */
async function writeTest(tx: Queryable, sql: string, id: string, fields: CheckedFields & { organisationPath: string[] }) {
  try {
    await tx.query(sql, [
      id,
      fields.externalId,
      fields.title,
      fields.description,
      fields.organisationId,
      fields.organisationPath,
      fields.courseId,
      fields.lessonId,
      fields.passingScorePercent,
    ]);
  } catch (err) {
    if (uniqueViolation(err) === 'tests_external_id_key')
      throw alreadyExists(`external id "${fields.externalId}" is already used by another test`, 'fields.externalId');
    throw err;
  }
}

export async function createTest(deps: Deps, actorId: string, req: CreateTestRequest): Promise<Test> {
  const caller = await Caller.load(deps.authority, actorId);
  caller.scope(PERMISSIONS.testsWrite);
  const fields = await checkFields(deps, req.fields);
  const blocks = checkBlocks(req.blocks);
  return deps.outbox.transaction(async (tx) => {
    const id = randomUUID();
    await writeTest(
      tx,
      `INSERT INTO tests (id, external_id, title, description, organisation_id, organisation_path, course_id, lesson_id, passing_score_percent)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      id,
      fields,
    );
    await insertBlocks(tx, id, blocks);
    return toTest(tx, (await loadTest(tx, id))!);
  });
}

/** Changes a test's fields; its blocks and questions too (replace_blocks) while it has no
 * attempt: an attempt keeps the questions it was played with, but a test being corrected
 * after people took it would make their scores mean something else. */
export async function updateTest(deps: Deps, actorId: string, req: UpdateTestRequest): Promise<Test> {
  const caller = await Caller.load(deps.authority, actorId);
  const id = checkId('id', req.id);
  requireTestInScope(caller, PERMISSIONS.testsWrite, await loadTest(deps.db, id), id);
  const fields = await checkFields(deps, req.fields);
  const blocks = req.replaceBlocks ? checkBlocks(req.blocks) : undefined;
  return deps.outbox.transaction(async (tx) => {
    requireTestInScope(caller, PERMISSIONS.testsWrite, await loadTest(tx, id, true), id);
    await writeTest(
      tx,
      `UPDATE tests SET external_id = $2, title = $3, description = $4, organisation_id = $5, organisation_path = $6,
         course_id = $7, lesson_id = $8, passing_score_percent = $9, updated_at = now() WHERE id = $1`,
      id,
      fields,
    );
    if (blocks) {
      const { rows } = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM attempts WHERE test_id = $1', [id]);
      if (rows[0].n > 0)
        throw failedPrecondition(`the test has ${rows[0].n} attempts: its blocks and questions can no longer change`, 'blocks');
      await tx.query('DELETE FROM test_blocks WHERE test_id = $1', [id]);
      await insertBlocks(tx, id, blocks);
    }
    return toTest(tx, (await loadTest(tx, id))!);
  });
}

export async function getTest(deps: Deps, actorId: string, id: string): Promise<Test> {
  const caller = await Caller.load(deps.authority, actorId);
  const checked = checkId('id', id);
  const row = requireTestInScope(caller, PERMISSIONS.testsRead, await loadTest(deps.db, checked), checked) as TestRow;
  return toTest(deps.db, row);
}

function checkPage(page: Page | undefined): { limit: number; offset: number } {
  const limit = page?.limit || DEFAULT_PAGE_SIZE;
  if (limit > MAX_PAGE_SIZE) throw invalidArgument('page.limit', `page.limit must be at most ${MAX_PAGE_SIZE}`);
  return { limit, offset: page?.offset ?? 0 };
}

/** SQL conditions of a filter within the caller's tests:read scope. */
function conditions(p: Params, caller: Caller, filter: TestFilter | undefined, field: string): string[] {
  const where = [`t.organisation_path && ${p.add(caller.scope(PERMISSIONS.testsRead))}::uuid[]`];
  const text = checkText(`${field}.text`, filter?.text ?? '');
  if (text) {
    const pattern = p.add(containsPattern(text));
    where.push(`(t.title ILIKE ${pattern} OR t.external_id ILIKE ${pattern} OR t.description ILIKE ${pattern})`);
  }
  const organisationId = checkId(`${field}.organisationId`, filter?.organisationId ?? '', true);
  if (organisationId) where.push(`${p.add(organisationId)}::uuid = ANY(t.organisation_path)`);
  const courseId = checkId(`${field}.courseId`, filter?.courseId ?? '', true);
  if (courseId) where.push(`t.course_id = ${p.add(courseId)}`);
  return where;
}

async function summaries(q: Queryable, p: Params, where: string[], page: { limit: number; offset: number }) {
  const { rows } = await q.query<{
    id: string;
    external_id: string;
    title: string;
    organisation_id: string;
    course_id: string | null;
    lesson_id: string | null;
    question_count: number;
    attempt_count: number;
    total: number;
  }>(
    `SELECT t.id, t.external_id, t.title, t.organisation_id, t.course_id, t.lesson_id,
            (SELECT count(*)::int FROM questions q WHERE q.test_id = t.id) AS question_count,
            (SELECT count(*)::int FROM attempts a WHERE a.test_id = t.id) AS attempt_count,
            count(*) OVER ()::int AS total
       FROM tests t WHERE ${where.join(' AND ')}
      ORDER BY lower(t.title), t.id LIMIT ${p.add(page.limit)} OFFSET ${p.add(page.offset)}`,
    p.values,
  );
  let total = rows[0]?.total ?? 0;
  if (rows.length === 0 && page.offset > 0) {
    // Past the end: the total is still asked for.
    const counted = await q.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM tests t WHERE ${where.join(' AND ')}`,
      p.values.slice(0, -2),
    );
    total = counted.rows[0].n;
  }
  const tests: TestSummary[] = rows.map((r) => ({
    id: r.id,
    externalId: r.external_id,
    title: r.title,
    organisationId: r.organisation_id,
    courseId: r.course_id ?? '',
    lessonId: r.lesson_id ?? '',
    questionCount: r.question_count,
    attemptCount: r.attempt_count,
  }));
  return { tests, total };
}

/** The test assistant's search: tests a filter matches, in the caller's tests:read scope,
 * by title. */
export async function searchTests(deps: Deps, actorId: string, req: SearchTestsRequest): Promise<SearchTestsResponse> {
  const caller = await Caller.load(deps.authority, actorId);
  const page = checkPage(req.page);
  const p = new Params();
  return summaries(deps.db, p, conditions(p, caller, req.filter, 'filter'), page);
}

/** What a selection stands for (ids or a filter, minus the recap's removals), in scope. */
export async function resolveTestSelection(
  deps: Deps,
  actorId: string,
  req: ResolveTestSelectionRequest,
): Promise<ResolveTestSelectionResponse> {
  const caller = await Caller.load(deps.authority, actorId);
  const page = checkPage(req.page);
  const selection = req.selection;
  if (!selection || (!selection.ids && !selection.filter)) throw invalidArgument('selection', 'selection needs ids or a filter');
  const p = new Params();
  const where = conditions(p, caller, selection.filter, 'selection.filter');
  if (selection.ids) where.push(`t.id = ANY(${p.add(checkIds('selection.ids', selection.ids.ids))}::uuid[])`);
  const exclude = checkIds('selection.excludeIds', selection.excludeIds);
  if (exclude.length > 0) where.push(`NOT (t.id = ANY(${p.add(exclude)}::uuid[]))`);
  const { tests, total } = await summaries(deps.db, p, where, page);
  return { ids: tests.map((t) => t.id), total, tests };
}
