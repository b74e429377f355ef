import {
  applyBatch,
  checkId,
  invalidArgument,
  isId,
  itemResult,
  notFound,
  permissionDenied,
  type Emit,
  type Queryable,
} from '@assistants/kit';
import type { MergeUserAssignmentsRequest } from '@assistants/proto/gen/assignment/v1/assignments';
import type { CatalogItem, Learner } from '@assistants/proto/gen/assignment/v1/events';
import type { BatchResult, ItemResult } from '@assistants/proto/gen/batch/v1/batch';
import type { UserForAction } from '@assistants/proto/gen/identity/v1/users';
import { toCertificate, type CertificateRow } from './certificates.repo';
import { toCourseAssignment, type CourseAssignmentRow } from './course-assignments.repo';
import { toCurriculumAssignment, type CurriculumAssignmentRow } from './curriculum-assignments.repo';
import type { Deps } from './deps';
import { events } from './events';
import { catalogItem, toLearner } from './items';
import { PERMISSIONS } from './permissions';
import { toTutorship, type TutorshipRow } from './tutors.repo';
import { coursesById, curriculaById, usersForAction } from './upstreams';

/*
 * The assignment service's step of the user merge (M1): everything the user to delete (Z)
 * holds here moves to the user to keep (A) in one transaction, once per idempotency key.
 * Where both hold the same course or curriculum, A keeps one assignment with the most
 * generous values of the two (never narrower than what either had):
 *   - start date: the earlier; objective and end dates: the later; no date (open) wins over
 *     a date. The result always keeps start <= objective <= end.
 *   - option: the stronger, mandatory > recommended > free;
 *   - payment mode, code and unit cost: A's, unless A has none of them (then Z's);
 *   - origins: both (direct if either was, every curriculum and access property of both);
 *   - assigned_at: the earlier.
 * Certificates of the same course: the one issued later is kept (A's on a tie). Tutorships
 * are a union. Visibility follows list memberships, which identity's step moves (its
 * list-member events reach this service's consumer).
 */

const OPTION_RANK = `CASE %s WHEN 'mandatory' THEN 3 WHEN 'recommended' THEN 2 ELSE 1 END`;
const rank = (column: string) => OPTION_RANK.replace('%s', column);
/** The earlier date, none when either has none; the later likewise. */
const earlier = (c: string) => `CASE WHEN a.${c} IS NULL OR z.${c} IS NULL THEN NULL ELSE least(a.${c}, z.${c}) END`;
const later = (c: string) => `CASE WHEN a.${c} IS NULL OR z.${c} IS NULL THEN NULL ELSE greatest(a.${c}, z.${c}) END`;
const union = (c: string) => `ARRAY(SELECT DISTINCT x FROM unnest(a.${c} || z.${c}) AS x ORDER BY x)`;
const A_HAS_NO_PAYMENT = `(a.payment_mode = '' AND a.payment_code = '' AND a.unit_cost IS NULL)`;

const COURSE_FIELDS: [keyof CourseAssignmentRow, string][] = [
  ['start_date', 'start_date'],
  ['objective_date', 'objective_date'],
  ['end_date', 'end_date'],
  ['option', 'option'],
  ['payment_mode', 'payment_mode'],
  ['payment_code', 'payment_code'],
  ['unit_cost', 'unit_cost'],
];
const CURRICULUM_FIELDS: [keyof CurriculumAssignmentRow, string][] = COURSE_FIELDS.slice(0, 4) as [keyof CurriculumAssignmentRow, string][];

function changedFields<T>(before: T, after: T, fields: [keyof T, string][]): string[] {
  return fields.filter(([column]) => (before[column] ?? null) !== (after[column] ?? null)).map(([, name]) => name);
}

/** Both users, each one the acting user may change: assignments:write on its organisation
 * (NOT_FOUND otherwise, as if it did not exist) and no grant beyond the acting user's own. */
async function mergedUsers(deps: Deps, req: Omit<MergeUserAssignmentsRequest, 'batch'>) {
  const from = checkId('fromUserId', req.fromUserId);
  const to = checkId('toUserId', req.toUserId);
  if (from === to) throw invalidArgument('toUserId', 'the user to keep must not be the user to delete');
  const users = await usersForAction(deps.upstreams.identity, [from, to], PERMISSIONS.write, true);
  const check = (id: string, field: string): UserForAction => {
    const user = users.get(id);
    if (!user?.found || !user.inScope) throw notFound(`no user with id ${id}`, field);
    if (!user.covered) {
      throw permissionDenied(`user "${user.login}" holds rights you do not hold: only an administrator who holds them can merge it`, field);
    }
    return user;
  };
  return { from, to, fromUser: check(from, 'fromUserId'), toUser: check(to, 'toUserId') };
}

/** M1's assignment step: Z's course and curriculum assignments, certificates and tutorships
 * move to A (see above), with their events; one result per thing moved. */
export async function mergeUserAssignments(deps: Deps, req: MergeUserAssignmentsRequest): Promise<BatchResult> {
  const { batch, ...request } = req;
  // Everything inside the batch: a key applied already is answered from its record even
  // when the users have changed since (a replay after the merge deleted the user).
  return applyBatch(deps.outbox, batch, request, async (tx, emit, dryRun) => {
    const ctx = await mergeContext(deps, tx, request, dryRun);
    return [
      ...(await mergeCourseAssignments(tx, emit, ctx)),
      ...(await mergeCurriculumAssignments(tx, emit, ctx)),
      ...(await mergeCertificates(tx, emit, ctx)),
      ...(await mergeTutorships(tx, emit, ctx)),
    ];
  });
}

/** The users (checked) and the names of what Z holds, for the events (not looked up for a
 * dry run: its events are dropped). */
async function mergeContext(
  deps: Deps,
  tx: Queryable,
  request: Omit<MergeUserAssignmentsRequest, 'batch'>,
  dryRun: boolean,
): Promise<MergeContext> {
  const names = async () => {
    const held = await tx.query<{ kind: string; id: string }>(
      `SELECT 'course' AS kind, course_id AS id FROM course_assignments WHERE user_id = $1
       UNION SELECT 'course', course_id FROM certificates WHERE user_id = $1
       UNION SELECT 'course', course_id FROM tutorships WHERE tutor_id = $1
       UNION SELECT 'curriculum', curriculum_id FROM curriculum_assignments WHERE user_id = $1`,
      [request.fromUserId],
    );
    const idsOf = (kind: string) => held.rows.filter((r) => r.kind === kind).map((r) => r.id);
    return Promise.all([coursesById(deps.upstreams.catalog, idsOf('course')), curriculaById(deps.upstreams.catalog, idsOf('curriculum'))]);
  };
  // The users are checked while the names are fetched (an unchecked id only finds nothing).
  const [{ from, to, fromUser, toUser }, [courses, curricula]] = await Promise.all([
    mergedUsers(deps, request),
    dryRun || !isId(request.fromUserId) ? [new Map(), new Map()] : names(),
  ]);
  const itemOf = (known: Map<string, { id: string; code: string; name: string }>, id: string): CatalogItem =>
    catalogItem(known.get(id) ?? { id, code: '', name: '' });
  return {
    from,
    to,
    fromLearner: toLearner(fromUser),
    toLearner: toLearner(toUser),
    course: (id) => itemOf(courses, id),
    curriculum: (id) => itemOf(curricula, id),
  };
}

interface MergeContext {
  from: string;
  to: string;
  fromLearner: Learner;
  toLearner: Learner;
  course(id: string): CatalogItem;
  curriculum(id: string): CatalogItem;
}

async function mergeCourseAssignments(tx: Queryable, emit: Emit, ctx: MergeContext): Promise<ItemResult[]> {
  const { from, to } = ctx;
  const { rows: locked } = await tx.query<CourseAssignmentRow>(
    'SELECT * FROM course_assignments WHERE user_id = ANY($1::uuid[]) ORDER BY user_id, course_id FOR UPDATE',
    [[from, to].sort()],
  );
  const zRows = locked.filter((r) => r.user_id === from);
  if (zRows.length === 0) return [];
  const aBefore = new Map(locked.filter((r) => r.user_id === to).map((r) => [r.course_id, r]));
  const { rows: merged } = await tx.query<CourseAssignmentRow>(
    `UPDATE course_assignments a SET
       start_date = ${earlier('start_date')}, objective_date = ${later('objective_date')}, end_date = ${later('end_date')},
       option = CASE WHEN ${rank('z.option')} > ${rank('a.option')} THEN z.option ELSE a.option END,
       payment_mode = CASE WHEN ${A_HAS_NO_PAYMENT} THEN z.payment_mode ELSE a.payment_mode END,
       payment_code = CASE WHEN ${A_HAS_NO_PAYMENT} THEN z.payment_code ELSE a.payment_code END,
       unit_cost = CASE WHEN ${A_HAS_NO_PAYMENT} THEN z.unit_cost ELSE a.unit_cost END,
       direct = a.direct OR z.direct, via_curricula = ${union('via_curricula')},
       via_access_properties = ${union('via_access_properties')},
       assigned_at = least(a.assigned_at, z.assigned_at), updated_at = now()
     FROM course_assignments z
     WHERE a.user_id = $2 AND z.user_id = $1 AND z.course_id = a.course_id
     RETURNING a.*`,
    [from, to],
  );
  await tx.query('DELETE FROM course_assignments WHERE user_id = $1 AND course_id = ANY($2::uuid[])', [
    from,
    merged.map((r) => r.course_id),
  ]);
  const { rows: moved } = await tx.query<CourseAssignmentRow>(
    'UPDATE course_assignments SET user_id = $2, updated_at = now() WHERE user_id = $1 RETURNING *',
    [from, to],
  );
  const after = new Map([...merged, ...moved].map((r) => [r.course_id, r]));
  return zRows.map((z) => {
    const course = ctx.course(z.course_id);
    const base = { course, notifyTemplateId: '', accessPropertyId: '' };
    events.courseRemoved(emit, { ...base, assignment: toCourseAssignment(z), learner: ctx.fromLearner, changedFields: [] });
    const a = after.get(z.course_id)!;
    const before = aBefore.get(z.course_id);
    const change = { ...base, assignment: toCourseAssignment(a), learner: ctx.toLearner };
    if (!before) {
      events.courseAssigned(emit, { ...change, changedFields: [] });
      return itemResult.succeeded(z.course_id, 'course_assignment', 'moved to the user to keep');
    }
    const changed = changedFields(before, a, COURSE_FIELDS);
    if (changed.length > 0) events.courseUpdated(emit, { ...change, changedFields: changed });
    return itemResult.succeeded(z.course_id, 'course_assignment', "merged into the kept user's assignment of the course");
  });
}

async function mergeCurriculumAssignments(tx: Queryable, emit: Emit, ctx: MergeContext): Promise<ItemResult[]> {
  const { from, to } = ctx;
  const { rows: locked } = await tx.query<CurriculumAssignmentRow>(
    'SELECT * FROM curriculum_assignments WHERE user_id = ANY($1::uuid[]) ORDER BY user_id, curriculum_id FOR UPDATE',
    [[from, to].sort()],
  );
  const zRows = locked.filter((r) => r.user_id === from);
  if (zRows.length === 0) return [];
  const aBefore = new Map(locked.filter((r) => r.user_id === to).map((r) => [r.curriculum_id, r]));
  const { rows: merged } = await tx.query<CurriculumAssignmentRow>(
    `UPDATE curriculum_assignments a SET
       start_date = ${earlier('start_date')}, objective_date = ${later('objective_date')}, end_date = ${later('end_date')},
       option = CASE WHEN ${rank('z.option')} > ${rank('a.option')} THEN z.option ELSE a.option END,
       direct = a.direct OR z.direct, via_access_properties = ${union('via_access_properties')},
       assigned_at = least(a.assigned_at, z.assigned_at), updated_at = now()
     FROM curriculum_assignments z
     WHERE a.user_id = $2 AND z.user_id = $1 AND z.curriculum_id = a.curriculum_id
     RETURNING a.*`,
    [from, to],
  );
  await tx.query('DELETE FROM curriculum_assignments WHERE user_id = $1 AND curriculum_id = ANY($2::uuid[])', [
    from,
    merged.map((r) => r.curriculum_id),
  ]);
  const { rows: moved } = await tx.query<CurriculumAssignmentRow>(
    'UPDATE curriculum_assignments SET user_id = $2, updated_at = now() WHERE user_id = $1 RETURNING *',
    [from, to],
  );
  const after = new Map([...merged, ...moved].map((r) => [r.curriculum_id, r]));
  return zRows.map((z) => {
    const curriculum = ctx.curriculum(z.curriculum_id);
    const base = { notifyTemplateId: '', accessPropertyId: '', curriculum };
    events.curriculumRemoved(emit, { ...base, assignment: toCurriculumAssignment(z), learner: ctx.fromLearner, changedFields: [] });
    const a = after.get(z.curriculum_id)!;
    const before = aBefore.get(z.curriculum_id);
    const change = { ...base, assignment: toCurriculumAssignment(a), learner: ctx.toLearner };
    if (!before) {
      events.curriculumAssigned(emit, { ...change, changedFields: [] });
      return itemResult.succeeded(z.curriculum_id, 'curriculum_assignment', 'moved to the user to keep');
    }
    const changed = changedFields(before, a, CURRICULUM_FIELDS);
    if (changed.length > 0) events.curriculumUpdated(emit, { ...change, changedFields: changed });
    return itemResult.succeeded(z.curriculum_id, 'curriculum_assignment', "merged into the kept user's assignment of the curriculum");
  });
}

async function mergeCertificates(tx: Queryable, emit: Emit, ctx: MergeContext): Promise<ItemResult[]> {
  const { from, to } = ctx;
  const { rows: locked } = await tx.query<CertificateRow>(
    'SELECT * FROM certificates WHERE user_id = ANY($1::uuid[]) ORDER BY user_id, course_id FOR UPDATE',
    [[from, to].sort()],
  );
  const zRows = locked.filter((r) => r.user_id === from);
  if (zRows.length === 0) return [];
  const aBefore = new Map(locked.filter((r) => r.user_id === to).map((r) => [r.course_id, r]));
  // Z's certificate replaces A's when issued later.
  const { rows: replaced } = await tx.query<CertificateRow>(
    `UPDATE certificates a SET template_id = z.template_id, issued_at = z.issued_at, reissue_count = z.reissue_count
     FROM certificates z WHERE a.user_id = $2 AND z.user_id = $1 AND z.course_id = a.course_id AND z.issued_at > a.issued_at
     RETURNING a.*`,
    [from, to],
  );
  await tx.query('DELETE FROM certificates WHERE user_id = $1 AND course_id = ANY($2::uuid[])', [from, [...aBefore.keys()]]);
  const { rows: moved } = await tx.query<CertificateRow>('UPDATE certificates SET user_id = $2 WHERE user_id = $1 RETURNING *', [from, to]);
  const gained = new Map([...replaced, ...moved].map((r) => [r.course_id, r]));
  return zRows.map((z) => {
    const row = gained.get(z.course_id);
    if (!row) {
      return itemResult.succeeded(z.course_id, 'certificate', "merged: the kept user's certificate for the course was issued later");
    }
    const previous = aBefore.get(z.course_id);
    events.certificateIssued(emit, {
      certificate: toCertificate(row),
      learner: ctx.toLearner,
      course: ctx.course(z.course_id),
      reissued: false,
      previousTemplateId: previous?.template_id ?? '',
      notifyTemplateId: '',
    });
    return itemResult.succeeded(
      z.course_id,
      'certificate',
      previous ? "merged: it replaced the kept user's older one" : 'moved to the user to keep',
    );
  });
}

async function mergeTutorships(tx: Queryable, emit: Emit, ctx: MergeContext): Promise<ItemResult[]> {
  const { from, to } = ctx;
  const { rows: gone } = await tx.query<TutorshipRow>('DELETE FROM tutorships WHERE tutor_id = $1 RETURNING *', [from]);
  if (gone.length === 0) return [];
  const { rows: gained } = await tx.query<TutorshipRow>(
    `INSERT INTO tutorships (tutor_id, course_id, list_id, assigned_at)
     SELECT $2, * FROM unnest($1::uuid[], $3::uuid[], $4::timestamptz[]) ON CONFLICT DO NOTHING RETURNING *`,
    [gone.map((t) => t.course_id), to, gone.map((t) => t.list_id), gone.map((t) => t.assigned_at)],
  );
  const key = (t: TutorshipRow) => `${t.course_id}/${t.list_id}`;
  const inserted = new Map(gained.map((t) => [key(t), t]));
  return gone
    .sort((a, b) => key(a).localeCompare(key(b)))
    .map((t) => {
      const row = inserted.get(key(t));
      if (!row)
        return itemResult.unchanged(key(t), 'tutorship', 'ALREADY_HELD', 'the user to keep already tutors this course for this list');
      events.tutorAssigned(emit, { tutorship: toTutorship(row), tutor: ctx.toLearner, course: ctx.course(t.course_id) });
      return itemResult.succeeded(key(t), 'tutorship', 'moved to the user to keep');
    });
}
