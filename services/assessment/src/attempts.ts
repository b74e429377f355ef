import { randomUUID } from 'node:crypto';
import { checkId, invalidArgument, notFound, type Emit, type Queryable } from '@assistants/kit';
import type {
  Attempt,
  AttemptAnswer,
  BlockScore,
  EditAttemptScoresRequest,
  ListAttemptsRequest,
  RecordAttemptRequest,
} from '@assistants/proto/gen/assessment/v1/attempts';
import type { AttemptSummary, LessonResult } from '@assistants/proto/gen/assessment/v1/events';
import { Caller, requireTestInScope, requireUser } from './caller';
import type { Deps } from './deps';
import { attemptChanged, type AttemptVerb } from './events';
import { PERMISSIONS } from './permissions';
import { checkGiven, toJsonText, type QuestionType } from './questions';
import { loadTest, type TestRow } from './tests';

/*
 * Users' attempts on tests. An attempt keeps a copy of each question as it was played (type,
 * title, max score, expected answer) with the answer given and its score; its total, its
 * percentage, its status and its block scores follow from those scores. T1 changes scores
 * (never an answer), T2 deletes an attempt. Every change publishes the lesson's result from
 * the user's remaining attempts, which the statistics service follows.
 */

type AttemptRow = {
  id: string;
  test_id: string;
  user_id: string;
  started_at: Date;
  duration_seconds: number;
  score: string;
  max_score: string;
  score_percent: string;
  status: AttemptStatus;
};

/** A question as it was played: what an attempt's answer keeps of it. */
type PlayedQuestion = {
  block_id: string;
  block_title: string;
  position: number;
  type: QuestionType;
  title: string;
  text: string;
  choices: unknown;
  expected: unknown;
  max_score: string;
};

type AnswerRow = PlayedQuestion & {
  question_id: string;
  given: unknown;
  score: string;
  duration_seconds: number;
};

export type AttemptStatus = 'passed' | 'failed' | 'completed' | 'incomplete';

const round2 = (n: number) => Math.round(n * 100) / 100;

/** An attempt's totals and status from its question scores: incomplete stays incomplete;
 * otherwise passed at or above the test's pass mark, failed below, completed without one. */
export function totals(scores: { score: number; maxScore: number }[], passing: number | null, incomplete: boolean) {
  const score = round2(scores.reduce((sum, s) => sum + s.score, 0));
  const maxScore = round2(scores.reduce((sum, s) => sum + s.maxScore, 0));
  const percent = maxScore === 0 ? 0 : round2((score / maxScore) * 100);
  const status: AttemptStatus = incomplete ? 'incomplete' : passing === null ? 'completed' : percent >= passing ? 'passed' : 'failed';
  return { score, maxScore, percent, status };
}

/** Statistics' order of results (its merge rule): passed and completed first, then failed,
 * incomplete; then the higher score; then the later date. */
const RANK: Record<AttemptStatus, number> = { passed: 5, completed: 5, failed: 3, incomplete: 2 };
function better(a: AttemptRow, b: AttemptRow): boolean {
  if (RANK[a.status] !== RANK[b.status]) return RANK[a.status] > RANK[b.status];
  if (Number(a.score_percent) !== Number(b.score_percent)) return Number(a.score_percent) > Number(b.score_percent);
  return a.started_at > b.started_at;
}

/** The user's result on the lesson that plays the test, from the attempts left. */
async function lessonResult(tx: Queryable, test: TestRow, userId: string): Promise<LessonResult> {
  const { rows } = await tx.query<AttemptRow>('SELECT * FROM attempts WHERE test_id = $1 AND user_id = $2', [test.id, userId]);
  const best = rows.reduce<AttemptRow | undefined>((b, r) => (!b || better(r, b) ? r : b), undefined);
  return {
    courseId: test.course_id ?? '',
    lessonId: test.lesson_id ?? '',
    attempts: rows.length,
    status: best?.status ?? 'not_started',
    scorePercent: best ? Math.round(Number(best.score_percent)) : 0,
    statusDate: best ? new Date(best.started_at.getTime() + best.duration_seconds * 1000).toISOString() : '',
    timeSpentSeconds: rows.reduce((sum, r) => sum + r.duration_seconds, 0),
  };
}

const summaryOf = (a: AttemptRow): AttemptSummary => ({
  id: a.id,
  testId: a.test_id,
  userId: a.user_id,
  startedAt: a.started_at.toISOString(),
  durationSeconds: a.duration_seconds,
  score: Number(a.score),
  maxScore: Number(a.max_score),
  scorePercent: Number(a.score_percent),
  status: a.status,
});

async function publish(tx: Queryable, emit: Emit, verb: AttemptVerb, attempt: AttemptRow, test: TestRow, actorId: string) {
  // Changes to one user's attempts on one test publish one after the other: the later event
  // has seen the earlier change (each event states the lesson's result whole).
  await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`assessment:${test.id}:${attempt.user_id}`]);
  attemptChanged(emit, verb, { attempt: summaryOf(attempt), lesson: await lessonResult(tx, test, attempt.user_id), actorId });
}

async function loadAttempt(q: Queryable, id: string, lock = false): Promise<AttemptRow | undefined> {
  return (await q.query<AttemptRow>(`SELECT * FROM attempts WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [id])).rows[0];
}

async function answersOf(q: Queryable, attemptId: string): Promise<AnswerRow[]> {
  return (
    await q.query<AnswerRow>(
      `SELECT a.* FROM attempt_answers a WHERE a.attempt_id = $1 ORDER BY
         (SELECT min(position) FROM attempt_answers b WHERE b.attempt_id = a.attempt_id AND b.block_id = a.block_id), a.position`,
      [attemptId],
    )
  ).rows;
}

function toAttempt(a: AttemptRow, testTitle: string, answers: AnswerRow[]): Attempt {
  const blocks: BlockScore[] = [];
  for (const answer of answers) {
    let block = blocks.find((b) => b.blockId === answer.block_id);
    if (!block) blocks.push((block = { blockId: answer.block_id, title: answer.block_title, score: 0, maxScore: 0 }));
    block.score = round2(block.score + Number(answer.score));
    block.maxScore = round2(block.maxScore + Number(answer.max_score));
  }
  return {
    ...summaryOf(a),
    testTitle,
    blocks,
    answers: answers.map((r): AttemptAnswer => ({
      questionId: r.question_id,
      blockId: r.block_id,
      type: r.type,
      title: r.title,
      text: r.text,
      maxScore: Number(r.max_score),
      choicesJson: toJsonText(r.choices),
      expectedJson: toJsonText(r.expected),
      givenJson: toJsonText(r.given),
      score: Number(r.score),
      durationSeconds: r.duration_seconds,
    })),
  };
}

/** The attempt, its test and its user, if the caller holds tests:read on the test and
 * `permission` on the user; NOT_FOUND otherwise. */
async function attemptInScope(deps: Deps, caller: Caller, id: string, permission: string) {
  const attempt = await loadAttempt(deps.db, id);
  const test = attempt && (await loadTest(deps.db, attempt.test_id));
  if (!attempt || !test || !caller.covers(PERMISSIONS.testsRead, test.organisation_path))
    throw notFound(`no attempt with id ${id}`, 'attemptId');
  caller.scope(permission);
  try {
    await requireUser(deps, attempt.user_id, permission);
  } catch {
    throw notFound(`no attempt with id ${id}`, 'attemptId');
  }
  return { attempt, test };
}

/** The test and the user a request names, if the caller holds tests:read on the test and
 * `permission` on the user (PERMISSION_DENIED when it holds `permission` nowhere). */
async function testAndUserInScope(deps: Deps, actorId: string, req: { testId: string; userId: string }, permission: string) {
  const caller = await Caller.load(deps.authority, actorId);
  caller.scope(permission);
  const testId = checkId('testId', req.testId);
  const userId = checkId('userId', req.userId);
  const test = requireTestInScope(caller, PERMISSIONS.testsRead, await loadTest(deps.db, testId), testId) as TestRow;
  await requireUser(deps, userId, permission);
  return { testId, userId, test };
}

/** An attempt as the player (or demo data) records it: every question of the test once, with
 * the answer given and its score. */
export async function recordAttempt(deps: Deps, actorId: string, req: RecordAttemptRequest): Promise<Attempt> {
  const { testId, userId, test } = await testAndUserInScope(deps, actorId, req, PERMISSIONS.resultsWrite);
  const startedAt = req.startedAt === '' ? new Date() : new Date(req.startedAt);
  if (req.startedAt !== '' && (Number.isNaN(startedAt.getTime()) || !/^\d{4}-\d{2}-\d{2}T/.test(req.startedAt))) {
    throw invalidArgument('startedAt', 'startedAt must be an RFC 3339 instant');
  }
  if (!Number.isInteger(req.durationSeconds) || req.durationSeconds > 10 * 365 * 86_400) {
    throw invalidArgument('durationSeconds', 'durationSeconds must be a whole number of seconds');
  }
  const questions = (
    await deps.db.query<PlayedQuestion & { id: string }>(
      `SELECT q.id, q.block_id, b.title AS block_title, b.position * 10000 + q.position AS position, q.type, q.title, q.text, q.choices, q.expected, q.max_score
         FROM questions q JOIN test_blocks b ON b.id = q.block_id WHERE q.test_id = $1 ORDER BY b.position, q.position`,
      [testId],
    )
  ).rows;
  const byId = new Map(req.answers.map((a, i) => [a.questionId.toLowerCase(), { a, i }]));
  if (byId.size !== req.answers.length) throw invalidArgument('answers', 'each question is answered once');
  req.answers.forEach((a, i) => {
    if (!questions.some((q) => q.id === a.questionId.toLowerCase()))
      throw invalidArgument(`answers[${i}].questionId`, `the test has no question with id ${a.questionId}`);
  });
  const rows = questions.map((q) => {
    const found = byId.get(q.id);
    if (!found) throw invalidArgument('answers', `question "${q.title}" (${q.id}) has no answer`);
    const { a, i } = found;
    const maxScore = Number(q.max_score);
    if (!(a.score >= 0 && a.score <= maxScore))
      throw invalidArgument(`answers[${i}].score`, `question "${q.title}": score ${a.score} is not between 0 and its maximum ${maxScore}`);
    return { q, given: checkGiven(`answers[${i}].givenJson`, q.type, a.givenJson), score: round2(a.score), duration: a.durationSeconds };
  });
  const passing = test.passing_score_percent === null ? null : Number(test.passing_score_percent);
  const t = totals(
    rows.map((r) => ({ score: r.score, maxScore: Number(r.q.max_score) })),
    passing,
    req.incomplete,
  );
  return deps.outbox.transaction(async (tx, emit) => {
    const id = randomUUID();
    const attempt = (
      await tx.query<AttemptRow>(
        `INSERT INTO attempts (id, test_id, user_id, started_at, duration_seconds, score, max_score, score_percent, status)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *`,
        [id, testId, userId, startedAt, req.durationSeconds, t.score, t.maxScore, t.percent, t.status],
      )
    ).rows[0];
    for (const r of rows) {
      await tx.query(
        `INSERT INTO attempt_answers (attempt_id, question_id, block_id, block_title, position, type, title, text, choices, expected, max_score, given, score, duration_seconds)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
        [
          id,
          r.q.id,
          r.q.block_id,
          r.q.block_title,
          r.q.position,
          r.q.type,
          r.q.title,
          r.q.text,
          JSON.stringify(r.q.choices),
          JSON.stringify(r.q.expected),
          r.q.max_score,
          JSON.stringify(r.given),
          r.score,
          r.duration,
        ],
      );
    }
    await publish(tx, emit, 'recorded', attempt, test, actorId);
    return toAttempt(attempt, test.title, await answersOf(tx, id));
  });
}

/** T1's view: the attempt with its block scores and every question's expected and given answers. */
export async function getAttempt(deps: Deps, actorId: string, id: string): Promise<Attempt> {
  const caller = await Caller.load(deps.authority, actorId);
  const checked = checkId('id', id);
  const { attempt, test } = await attemptInScope(deps, caller, checked, PERMISSIONS.resultsRead);
  return toAttempt(attempt, test.title, await answersOf(deps.db, checked));
}

/** A user's attempts on a test, newest first (without their answers). */
export async function listAttempts(deps: Deps, actorId: string, req: ListAttemptsRequest): Promise<Attempt[]> {
  const { testId, userId, test } = await testAndUserInScope(deps, actorId, req, PERMISSIONS.resultsRead);
  const { rows } = await deps.db.query<AttemptRow>(
    'SELECT * FROM attempts WHERE test_id = $1 AND user_id = $2 ORDER BY started_at DESC, id',
    [testId, userId],
  );
  return rows.map((a) => toAttempt(a, test.title, []));
}

/** T1: new scores for some questions of an attempt, each between 0 and the question's
 * maximum (INVALID_ARGUMENT naming the question otherwise, nothing changed); the given
 * answers stay as they are. The totals, percentage, status and block scores follow; each
 * changed score is kept in score_edits. */
export async function editAttemptScores(deps: Deps, actorId: string, req: EditAttemptScoresRequest): Promise<Attempt> {
  const caller = await Caller.load(deps.authority, actorId);
  const id = checkId('attemptId', req.attemptId);
  const { test } = await attemptInScope(deps, caller, id, PERMISSIONS.resultsWrite);
  if (req.scores.length === 0) throw invalidArgument('scores', 'scores needs at least one question and its new score');
  return deps.outbox.transaction(async (tx, emit) => {
    const locked = await loadAttempt(tx, id, true);
    if (!locked) throw notFound(`no attempt with id ${id}`, 'attemptId');
    const answers = await answersOf(tx, id);
    const seen = new Set<string>();
    const changes = req.scores.map((change, i) => {
      const questionId = change.questionId.toLowerCase();
      const answer = answers.find((a) => a.question_id === questionId);
      if (!answer) throw invalidArgument(`scores[${i}].questionId`, `the attempt has no question with id ${change.questionId}`);
      if (seen.has(questionId)) throw invalidArgument(`scores[${i}].questionId`, `question "${answer.title}" is given twice`);
      seen.add(questionId);
      const max = Number(answer.max_score);
      if (!Number.isFinite(change.score) || change.score < 0 || change.score > max) {
        throw invalidArgument(
          `scores[${i}].score`,
          `question "${answer.title}" (${answer.question_id}): the score ${change.score} is not between 0 and its maximum ${max}`,
        );
      }
      if (Math.round(change.score * 100) !== change.score * 100)
        throw invalidArgument(`scores[${i}].score`, `question "${answer.title}": a score takes at most 2 decimals`);
      return { answer, old: Number(answer.score), score: change.score };
    });
    for (const c of changes.filter((c) => c.old !== c.score)) {
      await tx.query('UPDATE attempt_answers SET score = $3 WHERE attempt_id = $1 AND question_id = $2', [
        id,
        c.answer.question_id,
        c.score,
      ]);
      await tx.query(
        `INSERT INTO score_edits (attempt_id, test_id, user_id, question_id, old_score, new_score, edited_by) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [id, locked.test_id, locked.user_id, c.answer.question_id, c.old, c.score, actorId],
      );
      c.answer.score = String(c.score);
    }
    const passing = test.passing_score_percent === null ? null : Number(test.passing_score_percent);
    const t = totals(
      answers.map((a) => ({ score: Number(a.score), maxScore: Number(a.max_score) })),
      passing,
      locked.status === 'incomplete',
    );
    const attempt = (
      await tx.query<AttemptRow>(
        'UPDATE attempts SET score = $2, max_score = $3, score_percent = $4, status = $5, updated_at = now() WHERE id = $1 RETURNING *',
        [id, t.score, t.maxScore, t.percent, t.status],
      )
    ).rows[0];
    await publish(tx, emit, 'scores-edited', attempt, test, actorId);
    return toAttempt(attempt, test.title, answers);
  });
}

/** T2: deletes an attempt (its answers with it; the score audit stays), once confirmed. */
export async function deleteAttempt(deps: Deps, actorId: string, req: { attemptId: string; confirm: boolean }): Promise<void> {
  const caller = await Caller.load(deps.authority, actorId);
  const id = checkId('attemptId', req.attemptId);
  const { test } = await attemptInScope(deps, caller, id, PERMISSIONS.resultsWrite);
  if (!req.confirm) throw invalidArgument('confirm', 'deleting an attempt cannot be undone: confirm it (confirm=true)');
  await deps.outbox.transaction(async (tx, emit) => {
    const attempt = (await tx.query<AttemptRow>('DELETE FROM attempts WHERE id = $1 RETURNING *', [id])).rows[0];
    if (!attempt) throw notFound(`no attempt with id ${id}`, 'attemptId');
    await publish(tx, emit, 'deleted', attempt, test, actorId);
  });
}
