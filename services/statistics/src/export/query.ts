import { checkDate, checkId, invalidArgument, ROOT_ORGANISATION_ID } from '@assistants/kit';
import { ExportStatusFilter, type StartExportRequest } from '@assistants/proto/gen/statistics/v1/exports';
import { COLUMNS_BY_KEY, type Column, type Group, type Join } from './columns';

/*
 * X1's one query. What a row is follows from the column groups asked:
 *   - user columns only: a user;
 *   - curriculum (no course nor lesson): a user's assigned curriculum;
 *   - course: a user's assigned course; with curriculum columns too, each course of a user's
 *     assigned curriculum (in the curriculum's order, with the course's own assignment and
 *     status when there is one);
 *   - lesson: each lesson of those courses (course columns or not).
 * Removed assignments (history), deleted users, courses and curricula are not exported.
 */

/** The status filter's three values, as the statuses of rules.ts. */
const STATUS_SETS: Record<number, string[]> = {
  [ExportStatusFilter.EXPORT_STATUS_FILTER_NOT_STARTED]: ['not_started'],
  [ExportStatusFilter.EXPORT_STATUS_FILTER_IN_PROGRESS]: ['browsed', 'incomplete', 'failed'],
  [ExportStatusFilter.EXPORT_STATUS_FILTER_COMPLETED]: ['passed', 'completed'],
};

export interface ExportPlan {
  columns: Column[];
  filters: {
    organisationId: string;
    audienceId: string;
    categoryId: string;
    curriculumFolderId: string;
    curriculumSubfolders: boolean;
    curriculumId: string;
    courseFolderId: string;
    courseSubfolders: boolean;
    includeExternalTrainings: boolean;
    courseId: string;
    startDateFrom: string;
    endDateTo: string;
    status: ExportStatusFilter;
  };
  separator: ';' | ',';
  bom: boolean;
}

/** Checks a request (INVALID_ARGUMENT naming the camelCase field) into a plan. */
export function planOf(request: StartExportRequest): ExportPlan {
  if (request.columns.length === 0) throw invalidArgument('columns', 'columns needs at least one column');
  const seen = new Set<string>();
  const columns = request.columns.map((key, i) => {
    const column = COLUMNS_BY_KEY.get(key);
    if (!column) throw invalidArgument(`columns[${i}]`, `columns[${i}]: no column ${JSON.stringify(key)}`);
    if (seen.has(key)) throw invalidArgument(`columns[${i}]`, `columns[${i}]: ${key} is asked twice`);
    seen.add(key);
    return column;
  });
  if (request.separator !== '' && request.separator !== ';' && request.separator !== ',') {
    throw invalidArgument('separator', `separator must be ";" or ",", got ${JSON.stringify(request.separator)}`);
  }
  const f = request.filters ?? {
    organisationId: '',
    audienceId: '',
    categoryId: '',
    curriculumFolderId: '',
    curriculumSubfolders: false,
    curriculumId: '',
    courseFolderId: '',
    courseSubfolders: false,
    includeExternalTrainings: false,
    courseId: '',
    startDateFrom: '',
    endDateTo: '',
    status: ExportStatusFilter.EXPORT_STATUS_FILTER_UNSPECIFIED,
  };
  const id = (name: keyof typeof f) => checkId(`filters.${name}`, f[name] as string, true);
  const filters = {
    ...f,
    organisationId: id('organisationId'),
    audienceId: id('audienceId'),
    categoryId: id('categoryId'),
    curriculumFolderId: id('curriculumFolderId'),
    curriculumId: id('curriculumId'),
    courseFolderId: id('courseFolderId'),
    courseId: id('courseId'),
    startDateFrom: checkDate('filters.startDateFrom', f.startDateFrom) ?? '',
    endDateTo: checkDate('filters.endDateTo', f.endDateTo) ?? '',
  };
  if (filters.curriculumFolderId && filters.curriculumId) {
    throw invalidArgument('filters.curriculumId', 'filters.curriculumId: give a curriculum folder or one curriculum, not both');
  }
  if (filters.courseFolderId && filters.courseId) {
    throw invalidArgument('filters.courseId', 'filters.courseId: give a course folder or one course, not both');
  }
  if (!(filters.status in STATUS_SETS) && filters.status !== ExportStatusFilter.EXPORT_STATUS_FILTER_UNSPECIFIED) {
    throw invalidArgument('filters.status', 'filters.status must be not started, in progress or completed');
  }
  const plan: ExportPlan = { columns, filters, separator: request.separator === ',' ? ',' : ';', bom: request.bom };
  // A filter on a level needs rows of that level.
  const groups = groupsOf(plan);
  const needs = (field: string, ok: boolean, what: string) => {
    if (!ok) throw invalidArgument(`filters.${field}`, `filters.${field} needs ${what} columns`);
  };
  const courseRows = groups.has('course') || groups.has('lesson');
  if (filters.categoryId) needs('categoryId', courseRows, 'course or lesson');
  if (filters.courseFolderId) needs('courseFolderId', courseRows, 'course or lesson');
  if (filters.courseId) needs('courseId', courseRows, 'course or lesson');
  if (filters.curriculumFolderId) needs('curriculumFolderId', groups.has('curriculum'), 'curriculum');
  if (filters.curriculumId) needs('curriculumId', groups.has('curriculum'), 'curriculum');
  const training = groups.has('curriculum') || courseRows;
  if (filters.startDateFrom) needs('startDateFrom', training, 'curriculum, course or lesson');
  if (filters.endDateTo) needs('endDateTo', training, 'curriculum, course or lesson');
  if (filters.status) needs('status', training, 'curriculum, course or lesson');
  return plan;
}

function groupsOf(plan: ExportPlan): Set<Group> {
  return new Set(plan.columns.map((c) => c.group));
}

/** The highest level asked (the status and date filters apply to it). */
function topLevel(groups: Set<Group>): 'curriculum' | 'course' | 'lesson' | undefined {
  return groups.has('curriculum') ? 'curriculum' : groups.has('course') ? 'course' : groups.has('lesson') ? 'lesson' : undefined;
}

export const headersOf = (plan: ExportPlan) => plan.columns.map((c) => c.header);

/** The query of a plan, within `scope` (the organisations whose sub-trees the author may read;
 * null: everywhere). Every column comes as text, in the plan's order. */
export function exportQuery(plan: ExportPlan, scope: string[] | null): { text: string; values: unknown[] } {
  const values: unknown[] = [];
  const param = (value: unknown, type: string) => {
    values.push(value);
    return `$${values.length}::${type}`;
  };
  const f = plan.filters;
  const groups = groupsOf(plan);
  const curriculum = groups.has('curriculum');
  const lesson = groups.has('lesson');
  const course = groups.has('course') || lesson;
  const joins = new Set<Join>(plan.columns.flatMap((c) => c.joins ?? []));

  const from = ['users u', 'LEFT JOIN organisations o ON o.id = u.organisation_id'];
  const where = ['NOT u.deleted'];
  // Each user's rows together, in the order the joins read them (no sort of the rows: see
  // the README).
  const order = ['u.id'];
  if (joins.has('manager')) from.push('LEFT JOIN users m ON m.id = u.manager_id');
  if (joins.has('secondaryManager')) from.push('LEFT JOIN users m2 ON m2.id = u.secondary_manager_id');
  if (curriculum) {
    from.push(
      'JOIN curriculum_assignments ra ON ra.user_id = u.id AND ra.removed_at IS NULL',
      'JOIN curricula r ON r.id = ra.curriculum_id AND NOT r.deleted',
      'LEFT JOIN curriculum_progress rp ON rp.user_id = u.id AND rp.curriculum_id = r.id',
    );
    if (joins.has('curriculumFolder')) from.push('LEFT JOIN folders rf ON rf.id = r.folder_id');
    order.push('ra.curriculum_id');
  }
  if (course && curriculum) {
    from.push(
      'CROSS JOIN LATERAL unnest(r.course_ids) WITH ORDINALITY AS rc(course_id, position)',
      'JOIN courses c ON c.id = rc.course_id AND NOT c.deleted',
      'LEFT JOIN course_assignments ca ON ca.user_id = u.id AND ca.course_id = c.id AND ca.removed_at IS NULL',
    );
    order.push('rc.position');
  } else if (course) {
    from.push(
      'JOIN course_assignments ca ON ca.user_id = u.id AND ca.removed_at IS NULL',
      'JOIN courses c ON c.id = ca.course_id AND NOT c.deleted',
    );
    order.push('ca.course_id');
  }
  if (course) {
    from.push('LEFT JOIN course_progress cp ON cp.user_id = u.id AND cp.course_id = c.id');
    if (joins.has('category')) from.push('LEFT JOIN categories cat ON cat.id = c.category_id');
    if (joins.has('courseFolder')) from.push('LEFT JOIN folders cf ON cf.id = c.folder_id');
    // External trainings only when asked (or named).
    if (!f.includeExternalTrainings && !f.courseId) where.push('NOT c.external_training');
  }
  if (lesson) {
    from.push('JOIN lessons l ON l.course_id = c.id', 'LEFT JOIN lesson_progress lp ON lp.user_id = u.id AND lp.lesson_id = l.id');
    order.push('l.position', 'l.id');
  }

  if (scope) where.push(`o.path && ${param(scope, 'uuid[]')}`);
  // Every user is under the root (which identity makes without an event: no copy of it).
  if (f.organisationId && f.organisationId !== ROOT_ORGANISATION_ID) where.push(`${param(f.organisationId, 'uuid')} = ANY(o.path)`);
  if (f.audienceId) {
    where.push(`EXISTS (SELECT 1 FROM user_audiences fa WHERE fa.user_id = u.id AND fa.audience_id = ${param(f.audienceId, 'uuid')})`);
  }
  if (f.categoryId) where.push(`c.category_id = ${param(f.categoryId, 'uuid')}`);
  if (f.curriculumId) where.push(`r.id = ${param(f.curriculumId, 'uuid')}`);
  if (f.curriculumFolderId) where.push(folderFilter('r', f.curriculumFolderId, f.curriculumSubfolders, param));
  if (f.courseId) where.push(`c.id = ${param(f.courseId, 'uuid')}`);
  if (f.courseFolderId) where.push(folderFilter('c', f.courseFolderId, f.courseSubfolders, param));

  const top = topLevel(groups);
  // The assignment of the highest level: a lesson's is its course's.
  const assignment = top === 'curriculum' ? 'ra' : 'ca';
  if (f.startDateFrom) where.push(`${assignment}.start_date >= ${param(f.startDateFrom, 'date')}`);
  if (f.endDateTo) where.push(`${assignment}.end_date <= ${param(f.endDateTo, 'date')}`);
  if (f.status && top) {
    const progress = { curriculum: 'rp', course: 'cp', lesson: 'lp' }[top];
    where.push(`coalesce(${progress}.status, 'not_started') = ANY(${param(STATUS_SETS[f.status], 'text[]')})`);
  }

  const select = plan.columns.map((c) => `coalesce(${c.sql}, '')`).join(', ');
  return {
    text: `SELECT ${select}\n  FROM ${from.join('\n  ')}\n WHERE ${where.join('\n   AND ')}\n ORDER BY ${order.join(', ')}`,
    values,
  };
}

function folderFilter(alias: string, folderId: string, subfolders: boolean, param: (v: unknown, t: string) => string): string {
  const id = param(folderId, 'uuid');
  return subfolders ? `${alias}.folder_id IN (SELECT id FROM folders WHERE ${id} = ANY(path))` : `${alias}.folder_id = ${id}`;
}
