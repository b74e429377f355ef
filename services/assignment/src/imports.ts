import { applyBatch, DomainError, invalidArgument, itemResult, type Queryable } from '@assistants/kit';
import type {
  CourseAssignmentImportRow,
  CurriculumAssignmentImportRow,
  ImportCourseAssignmentsRequest,
  ImportCurriculumAssignmentsRequest,
} from '@assistants/proto/gen/assignment/v1/assignments';
import type { AssignmentValues } from '@assistants/proto/gen/assignment/v1/common';
import { Outcome, type BatchResult, type ItemResult } from '@assistants/proto/gen/batch/v1/batch';
import type { UserForAction } from '@assistants/proto/gen/identity/v1/users';
import { usersForActionByLogin } from '@assistants/identity/client';
import { changeCourseAssignments, enrolCourses } from './course-assignments';
import { lockCourseAssignments, stateOf } from './course-assignments.repo';
import { changeCurriculumAssignments, enrolCurricula } from './curriculum-assignments';
import { curriculumStateOf, lockCurriculumAssignments } from './curriculum-assignments.repo';
import type { Deps } from './deps';
import { catalogItem, checkTemplateId, pairKey, sharesAudience, toLearner, userRefusal, type Refusal } from './items';
import { PERMISSIONS } from './permissions';
import { coursesById, type CourseInfo, type CurriculumInfo } from './upstreams';
import { applyChanges, dataChanges, dataToAssign, datesProblem, type AssignmentData, type DataChanges } from './values';

/*
 * I3 and I4: the chunks of the assignment imports. A row names a user by login and a course
 * (a curriculum) by code: a chunk asks identity for its users and the catalogue for its
 * courses once each, then assigns as U7 (U12) does, through the same enrolCourses
 * (enrolCurricula) and with the same events, and changes the assignments that exist as U8
 * (U13) does when the import updates existing ones. Each row gets one result, whose
 * target_id and message name the file's column at fault.
 */

/** A chunk is at most this many rows (the import sends 1,000 by default, 5,000 at most). */
const MAX_ROWS = 5_000;

/** The file's columns, by the field names the checks of values.ts use. */
const COURSE_COLUMNS: Record<string, string> = {
  login: 'user_loginid',
  course: 'crsvname',
  startDate: 'start_date',
  endDate: 'end_date',
  objectiveDate: 'objective_date',
  externalSessionId: 'external_session_id',
  option: 'assignment_option',
  paymentMode: 'billing_mode',
  paymentCode: 'billing_code',
  sessionEnrolmentStatus: 'session_enrolment_status',
  unitCost: 'unit_cost',
};
const CURRICULUM_COLUMNS: Record<string, string> = { ...COURSE_COLUMNS, curriculum: 'curriculum_extid' };

/** A row's refusal: its code, and the column at fault (its name starts the message). */
interface RowRefusal extends Refusal {
  column: string;
}

const refused = (column: string, code: string, message: string): RowRefusal => ({ column, code, message: `${column}: ${message}` });

/** A check of values.ts that refused a row's value, as that row's refusal naming the column
 * (its messages name the fields as the assistants send them: they become the columns). */
function valueRefusal(error: unknown, columns: Record<string, string>): RowRefusal {
  if (!(error instanceof DomainError) || error.code !== 'INVALID_ARGUMENT') throw error;
  const code = / is (before|after) /.test(error.message) ? 'INVALID_DATES' : 'INVALID';
  return { column: columns[error.field ?? ''] ?? '', code, message: withColumns(error.message, columns) };
}

/** A message of values.ts with the fields it names as the file's columns. */
const withColumns = (message: string, columns: Record<string, string>) =>
  message.replace(/\b(startDate|endDate|objectiveDate|option|paymentMode|paymentCode|unitCost)\b/g, (f) => columns[f]);

const SESSION_TEXT_MAX = 100;

/** The values a row gives, as the assistants' requests give them: an empty cell is absent. */
function valuesOf(row: { startDate?: string; endDate?: string; objectiveDate?: string; option: number }): AssignmentValues {
  return { startDate: row.startDate, endDate: row.endDate, objectiveDate: row.objectiveDate, option: row.option };
}

function courseValuesOf(row: CourseAssignmentImportRow): AssignmentValues {
  return { ...valuesOf(row), paymentMode: row.paymentMode, paymentCode: row.paymentCode, unitCost: row.unitCost };
}

/** What a row sets: the data of a new assignment, and the changes of an existing one (its
 * filled cells; none when existing ones are left unchanged: the same checks as the data's,
 * not made twice); or why it cannot. */
function rowData(
  values: AssignmentValues,
  kind: 'course' | 'curriculum',
  columns: Record<string, string>,
  updateExisting: boolean,
): { data: AssignmentData; changes: DataChanges } | RowRefusal {
  try {
    const data = dataToAssign(values, kind);
    return { data, changes: updateExisting ? dataChanges(values, kind) : {} };
  } catch (error) {
    return valueRefusal(error, columns);
  }
}

function userRowRefusal(login: string, user: UserForAction | undefined): RowRefusal | null {
  const refusal = userRefusal(user, PERMISSIONS.write);
  if (!refusal) return null;
  // As the assistants answer: OUT_OF_SCOPE for a user outside the acting user's scope.
  const why = refusal.code === 'NOT_FOUND' ? `no user with login ${JSON.stringify(login)}` : refusal.message;
  return refused(COURSE_COLUMNS.login, refusal.code, why);
}

/** The results of a chunk, one per row in the order given (each followed by its warnings). */
class RowResults {
  private readonly byItem = new Map<string, ItemResult>();
  private readonly warnings = new Map<string, ItemResult[]>();

  added(itemId: string): void {
    this.byItem.set(itemId, { ...itemResult.succeeded(itemId), code: 'ADDED' });
  }
  updated(itemId: string, message = ''): void {
    this.byItem.set(itemId, { ...itemResult.succeeded(itemId, '', message), code: 'UPDATED' });
  }
  unchanged(itemId: string, message: string): void {
    this.byItem.set(itemId, itemResult.unchanged(itemId, '', 'UNCHANGED', message));
  }
  failed(itemId: string, refusal: RowRefusal): void {
    this.byItem.set(itemId, itemResult.failed(itemId, refusal.column, refusal.code, refusal.message));
  }
  /** A warning on a column of a row that is not refused (the import logs it, the row stays). */
  warning(itemId: string, column: string, message: string): void {
    this.warnings.set(itemId, [...(this.warnings.get(itemId) ?? []), itemResult.unchanged(itemId, column, 'WARNING', message)]);
  }
  list(itemIds: string[]): ItemResult[] {
    return itemIds.flatMap((id) => {
      const result = this.byItem.get(id) ?? itemResult.failed(id, '', 'INTERNAL', 'no result for this row');
      return result.outcome === Outcome.OUTCOME_FAILED ? [result] : [result, ...(this.warnings.get(id) ?? [])];
    });
  }
}

function checkChunk(rows: { itemId: string }[], notifyTemplateId: string): string {
  if (rows.length > MAX_ROWS) throw invalidArgument('rows', `at most ${MAX_ROWS} rows per call, got ${rows.length}`);
  const ids = new Set(rows.map((r) => r.itemId));
  if (ids.size !== rows.length) throw invalidArgument('rows', 'each row needs its own item_id');
  return checkTemplateId('notifyTemplateId', notifyTemplateId);
}

/** The courses (or curricula) of a chunk's codes, by lower-case code: one catalogue call. */
async function coursesByCode(deps: Deps, codes: string[]): Promise<Map<string, CourseInfo>> {
  if (codes.length === 0) return new Map();
  const { courses } = await deps.upstreams.catalog.courses.getCoursesByCode({ codes: [...new Set(codes)] });
  return new Map(
    courses.map((c) => [
      c.code.toLowerCase(),
      {
        id: c.id,
        code: c.code,
        name: c.name,
        disabled: c.disabled,
        audienceIds: c.audienceIds,
        certificateTemplateId: c.certificateTemplateId,
      },
    ]),
  );
}

async function curriculaByCode(deps: Deps, codes: string[]): Promise<Map<string, CurriculumInfo>> {
  if (codes.length === 0) return new Map();
  const { curricula } = await deps.upstreams.catalog.curricula.getCurriculaByCode({ codes: [...new Set(codes)] });
  return new Map(
    curricula.map((c) => [
      c.code.toLowerCase(),
      { id: c.id, code: c.code, name: c.name, disabled: c.disabled, audienceIds: c.audienceIds, courseIds: c.courseIds },
    ]),
  );
}

/** The instructor-led sessions (I8, the catalogue's) that the rows' external session ids
 * name in their courses, by pairKey(course id, lower-case external id): one catalogue call,
 * none when no row gives a session id. */
async function knownSessions(deps: Deps, refs: { courseId: string; externalId: string }[]): Promise<Set<string>> {
  if (refs.length === 0) return new Set();
  const { found } = await deps.upstreams.catalog.sessions.findSessions({ refs });
  return new Set(found.map((f) => pairKey(f.courseId.toLowerCase(), f.externalId.toLowerCase())));
}

/** Session fields given by rows, written onto their assignments (one statement); the pairs
 * whose fields changed. */
async function writeSessions(
  tx: Queryable,
  sessions: { userId: string; courseId: string; externalSessionId?: string; status?: string }[],
): Promise<Set<string>> {
  if (sessions.length === 0) return new Set();
  const { rows } = await tx.query<{ user_id: string; course_id: string }>(
    `UPDATE course_assignments c
        SET external_session_id = coalesce(t.session_id, c.external_session_id),
            session_enrolment_status = coalesce(t.status, c.session_enrolment_status)
       FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[]) AS t(user_id, course_id, session_id, status)
      WHERE c.user_id = t.user_id AND c.course_id = t.course_id
        AND (c.external_session_id, c.session_enrolment_status)
            IS DISTINCT FROM (coalesce(t.session_id, c.external_session_id), coalesce(t.status, c.session_enrolment_status))
      RETURNING c.user_id, c.course_id`,
    [
      sessions.map((s) => s.userId),
      sessions.map((s) => s.courseId),
      sessions.map((s) => s.externalSessionId ?? null),
      sessions.map((s) => s.status ?? null),
    ],
  );
  return new Set(rows.map((r) => pairKey(r.user_id, r.course_id)));
}

function sessionRefusal(row: CourseAssignmentImportRow): RowRefusal | null {
  for (const [field, value] of [
    ['externalSessionId', row.externalSessionId],
    ['sessionEnrolmentStatus', row.sessionEnrolmentStatus],
  ] as const) {
    const column = COURSE_COLUMNS[field];
    // eslint-disable-next-line no-control-regex
    if (value !== undefined && (value.length > SESSION_TEXT_MAX || /[\u0000-\u001f]/.test(value))) {
      return refused(column, 'INVALID', `at most ${SESSION_TEXT_MAX} characters, no control characters`);
    }
  }
  return null;
}

/** A row that passed its checks: its user, the catalogue item it names (a course for I3, a
 * curriculum for I4), the data of a new assignment and the changes of an existing one. */
interface Accepted<Row, Item> {
  row: Row;
  user: UserForAction;
  item: Item;
  data: AssignmentData;
  changes: DataChanges;
}

/** What the checks of a row differ in between I3 and I4. */
interface RowChecks<Row, Item> {
  kind: 'course' | 'curriculum';
  columns: Record<string, string>;
  /** The code the row gives, and the chunk's items by lower-case code. */
  code(row: Row): string;
  items: Map<string, Item>;
  values(row: Row): AssignmentValues;
  /** The kind's own cells (I3's session cells), checked after the values. */
  cellsRefusal?(row: Row): RowRefusal | null;
}

/** The rows of a chunk that go on, by catalogue item (as the assistants' batches: the outbox
 * relay publishes the events of one user one at a time). Every other row fails in `results`
 * with its first refusal: the user, the item, the values, the kind's own cells, the item
 * disabled, no audience shared, or the same user and item on an earlier line. */
function acceptRows<
  Row extends { itemId: string; login: string },
  Item extends { id: string; code: string; disabled: boolean; audienceIds: string[] },
>(
  req: { rows: Row[]; updateExisting: boolean; ignoreAudiences: boolean },
  users: Map<string, UserForAction>,
  // The row type is the request's (the checks' functions may take a wider one).
  checks: RowChecks<NoInfer<Row>, Item>,
  results: RowResults,
): Accepted<Row, Item>[] {
  const { kind } = checks;
  const column = checks.columns[kind];
  const accepted: Accepted<Row, Item>[] = [];
  const lineOfPair = new Map<string, string>();
  for (const row of req.rows) {
    const user = users.get(row.login.toLowerCase());
    const item = checks.items.get(checks.code(row).toLowerCase());
    const checked = rowData(checks.values(row), kind, checks.columns, req.updateExisting);
    const refusal =
      userRowRefusal(row.login, user) ??
      (!item ? refused(column, 'NOT_FOUND', `no ${kind} with code ${JSON.stringify(checks.code(row))}`) : null) ??
      ('code' in checked ? checked : null) ??
      checks.cellsRefusal?.(row) ??
      (item!.disabled ? refused(column, `${kind.toUpperCase()}_DISABLED`, `${kind} ${item!.code} is disabled`) : null) ??
      (!req.ignoreAudiences && !sharesAudience(user!.audienceIds, item!.audienceIds)
        ? refused(column, 'AUDIENCE_MISMATCH', `the user shares none of the audiences of ${kind} ${item!.code}`)
        : null);
    if (refusal) {
      results.failed(row.itemId, refusal);
      continue;
    }
    const key = pairKey(user!.id.toLowerCase(), item!.id);
    const earlier = lineOfPair.get(key);
    if (earlier !== undefined) {
      results.failed(row.itemId, refused(column, 'DUPLICATE', `this user and ${kind} are already on line ${earlier}`));
      continue;
    }
    lineOfPair.set(key, row.itemId);
    const { data, changes } = checked as { data: AssignmentData; changes: DataChanges };
    accepted.push({ row, user: user!, item: item!, data, changes });
  }
  return accepted.sort((a, b) => (a.item.id < b.item.id ? -1 : a.item.id > b.item.id ? 1 : 0));
}

/** I3: one chunk of a course-assignment import. */
export async function importCourseAssignments(deps: Deps, req: ImportCourseAssignmentsRequest): Promise<BatchResult> {
  const { batch, ...request } = req;
  const notifyTemplateId = checkChunk(req.rows, req.notifyTemplateId);
  // Identity and the catalogue at the same time: a chunk waits for the slower one only.
  const [users, courses] = await Promise.all([
    // Each login once (a file lists a user's courses on several rows).
    usersForActionByLogin(deps.upstreams.identity, [...new Set(req.rows.map((r) => r.login))], PERMISSIONS.write),
    coursesByCode(
      deps,
      req.rows.map((r) => r.courseCode.toLowerCase()),
    ),
  ]);
  // A session id that names no session of the course is kept as given, with a warning (the
  // sessions may be imported later, I8).
  const sessionRefs = req.rows.flatMap((r) => {
    const course = courses.get(r.courseCode.toLowerCase());
    return course && r.externalSessionId ? [{ courseId: course.id, externalId: r.externalSessionId }] : [];
  });
  const knownSessionKeys = await knownSessions(deps, sessionRefs);
  return applyBatch(deps.outbox, batch, request, async (tx, emit) => {
    const results = new RowResults();
    for (const r of req.rows) {
      const course = courses.get(r.courseCode.toLowerCase());
      if (course && r.externalSessionId && !knownSessionKeys.has(pairKey(course.id.toLowerCase(), r.externalSessionId.toLowerCase()))) {
        results.warning(
          r.itemId,
          COURSE_COLUMNS.externalSessionId,
          `${COURSE_COLUMNS.externalSessionId}: course ${course.code} has no session ${JSON.stringify(r.externalSessionId)} (kept as given)`,
        );
      }
    }
    const accepted = acceptRows(
      req,
      users,
      {
        kind: 'course',
        columns: COURSE_COLUMNS,
        code: (row) => row.courseCode,
        items: courses,
        values: courseValuesOf,
        cellsRefusal: sessionRefusal,
      },
      results,
    );

    // An existing assignment changed by a row must keep its dates in order: checked before
    // anything is written, so that a refused row changes nothing (only when rows change
    // existing assignments: a chunk of new ones costs no read).
    const pairOf = (a: Accepted<CourseAssignmentImportRow, CourseInfo>) => ({ userId: a.user.id.toLowerCase(), courseId: a.item.id });
    const existing = new Map(
      (req.updateExisting ? await lockCourseAssignments(tx, accepted.map(pairOf)) : []).map((r) => [
        pairKey(r.user_id, r.course_id),
        stateOf(r),
      ]),
    );
    const kept = accepted.filter((a) => {
      const before = existing.get(pairKey(pairOf(a).userId, a.item.id));
      if (!before || !req.updateExisting) return true;
      const problem = datesProblem(applyChanges(before, a.changes).next);
      if (!problem) return true;
      results.failed(a.row.itemId, {
        column: COURSE_COLUMNS[problem.field],
        code: 'INVALID_DATES',
        message: `${withColumns(problem.message, COURSE_COLUMNS)} once changed`,
      });
      return false;
    });

    const enrolled = await enrolCourses(
      tx,
      emit,
      kept.map((a) => ({
        learner: toLearner(a.user),
        course: catalogItem(a.item),
        data: a.data,
        origin: { kind: 'direct' },
        notifyTemplateId,
      })),
    );
    const toChange = kept.filter((a, i) => enrolled[i] !== 'assigned' && req.updateExisting && Object.keys(a.changes).length > 0);
    const changed = await changeCourseAssignments(
      tx,
      emit,
      toChange.map((a) => ({ learner: toLearner(a.user), course: catalogItem(a.item), changes: a.changes, notifyTemplateId })),
    );
    const changeOf = new Map(toChange.map((a, i) => [a, changed[i]]));
    const sessions = kept.filter(
      (a, i) =>
        (a.row.externalSessionId !== undefined || a.row.sessionEnrolmentStatus !== undefined) &&
        (enrolled[i] === 'assigned' || req.updateExisting),
    );
    const sessionChanged = await writeSessions(
      tx,
      sessions.map((a) => ({ ...pairOf(a), externalSessionId: a.row.externalSessionId, status: a.row.sessionEnrolmentStatus })),
    );

    kept.forEach((a, i) => {
      const change = changeOf.get(a);
      if (enrolled[i] === 'assigned') results.added(a.row.itemId);
      else if (change?.kind === 'updated') results.updated(a.row.itemId, `changed: ${change.changed.join(', ')}`);
      else if (change?.kind === 'invalid-dates')
        results.failed(a.row.itemId, { column: '', code: 'INVALID_DATES', message: change.message });
      else if (sessionChanged.has(pairKey(pairOf(a).userId, a.item.id))) results.updated(a.row.itemId, 'changed: session');
      else results.unchanged(a.row.itemId, 'the course is already assigned to the user with these values');
    });
    return results.list(req.rows.map((r) => r.itemId));
  });
}

/** I4: one chunk of a curriculum-assignment import. */
export async function importCurriculumAssignments(deps: Deps, req: ImportCurriculumAssignmentsRequest): Promise<BatchResult> {
  const { batch, ...request } = req;
  const notifyTemplateId = checkChunk(req.rows, req.notifyTemplateId);
  const [users, curricula] = await Promise.all([
    usersForActionByLogin(
      deps.upstreams.identity,
      req.rows.map((r) => r.login),
      PERMISSIONS.write,
    ),
    curriculaByCode(
      deps,
      req.rows.map((r) => r.curriculumCode.toLowerCase()),
    ),
  ]);
  const courses = await coursesById(deps.upstreams.catalog, [...new Set([...curricula.values()].flatMap((c) => c.courseIds))]);
  const carry = { dates: req.carryDatesToCourses, option: req.carryDatesToCourses };
  return applyBatch(deps.outbox, batch, request, async (tx, emit) => {
    const results = new RowResults();
    const accepted = acceptRows(
      req,
      users,
      {
        kind: 'curriculum',
        columns: CURRICULUM_COLUMNS,
        code: (row) => row.curriculumCode,
        items: curricula,
        values: valuesOf,
      },
      results,
    );

    const pairOf = (a: Accepted<CurriculumAssignmentImportRow, CurriculumInfo>) => ({
      userId: a.user.id.toLowerCase(),
      curriculumId: a.item.id,
    });
    const existing = new Map(
      (req.updateExisting ? await lockCurriculumAssignments(tx, accepted.map(pairOf)) : []).map((r) => [
        pairKey(r.user_id, r.curriculum_id),
        curriculumStateOf(r),
      ]),
    );
    const kept = accepted.filter((a) => {
      const before = existing.get(pairKey(pairOf(a).userId, a.item.id));
      if (!before || !req.updateExisting) return true;
      const problem = datesProblem(applyChanges(before, a.changes).next);
      if (!problem) return true;
      results.failed(a.row.itemId, {
        column: CURRICULUM_COLUMNS[problem.field],
        code: 'INVALID_DATES',
        message: `${withColumns(problem.message, CURRICULUM_COLUMNS)} once changed`,
      });
      return false;
    });

    const enrolled = await enrolCurricula(
      tx,
      emit,
      kept.map((a) => ({
        learner: toLearner(a.user),
        curriculum: a.item,
        data: { startDate: a.data.startDate, objectiveDate: a.data.objectiveDate, endDate: a.data.endDate, option: a.data.option },
        origin: { kind: 'direct' },
        carry,
        notifyTemplateId,
      })),
      courses,
    );
    const toChange = kept.filter((a, i) => enrolled[i] !== 'assigned' && req.updateExisting && Object.keys(a.changes).length > 0);
    const changed = await changeCurriculumAssignments(
      tx,
      emit,
      toChange.map((a) => ({ learner: toLearner(a.user), curriculum: a.item, changes: a.changes, carry, notifyTemplateId })),
      courses,
    );
    const changeOf = new Map(toChange.map((a, i) => [a, changed[i]]));
    kept.forEach((a, i) => {
      const change = changeOf.get(a);
      if (enrolled[i] === 'assigned') results.added(a.row.itemId);
      else if (change?.kind === 'updated') results.updated(a.row.itemId, `changed: ${change.changed.join(', ')}`);
      else if (change?.kind === 'invalid-dates')
        results.failed(a.row.itemId, { column: '', code: 'INVALID_DATES', message: change.message });
      else results.unchanged(a.row.itemId, 'the curriculum is already assigned to the user with these values');
    });
    return results.list(req.rows.map((r) => r.itemId));
  });
}
