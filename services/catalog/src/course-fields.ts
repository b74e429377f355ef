import { checkId, checkOneOf, checkText, invalidArgument, notFound, type Queryable } from '@assistants/kit';
import type { CourseFields } from '@assistants/proto/gen/catalog/v1/courses';
import { findFolderRow } from './folders.repo';
import { checkCode, checkPixels, CMI_MODES, COURSE_TYPES, PROTOCOLS, sequentialAndPrerequisites } from './validation';

const text = (max: number) => (field: string, value: string) => checkText(field, value, { max });
const flag = (_field: string, value: boolean) => value;

type Spec<K extends keyof CourseFields> = { column: string; check: (field: string, value: NonNullable<CourseFields[K]>) => unknown };

/** Each field of CourseFields: its column and how a given value is checked. The two that
 * point elsewhere (folder, category) are checked against their tables by courseColumns. */
const FIELDS: { [K in keyof CourseFields]-?: Spec<K> } = {
  code: { column: 'code', check: checkCode },
  name: { column: 'name', check: (f, v) => checkText(f, v, { required: true, max: 255 }) },
  description: { column: 'description', check: text(4000) },
  disabled: { column: 'disabled', check: flag },
  certificateTemplateId: { column: 'certificate_template_id', check: text(100) },
  externalTraining: { column: 'external_training', check: flag },
  provider: { column: 'provider', check: text(255) },
  modality: { column: 'modality', check: text(255) },
  freeText1: { column: 'free_text1', check: text(4000) },
  freeText2: { column: 'free_text2', check: text(4000) },
  custom1: { column: 'custom1', check: text(255) },
  custom2: { column: 'custom2', check: text(255) },
  custom3: { column: 'custom3', check: text(255) },
  custom4: { column: 'custom4', check: text(255) },
  custom5: { column: 'custom5', check: text(255) },
  custom6: { column: 'custom6', check: text(255) },
  custom7: { column: 'custom7', check: text(255) },
  custom8: { column: 'custom8', check: text(255) },
  custom9: { column: 'custom9', check: text(255) },
  custom10: { column: 'custom10', check: text(255) },
  folderId: { column: 'folder_id', check: (f, v) => checkId(f, v, true) || null },
  categoryId: { column: 'category_id', check: (f, v) => checkId(f, v, true) || null },
  selfEnrolment: { column: 'self_enrolment', check: flag },
  selfUnenrolment: { column: 'self_unenrolment', check: flag },
  learnerMayClearStats: { column: 'learner_may_clear_stats', check: flag },
  learnerMayRecomputeStatus: { column: 'learner_may_recompute_status', check: flag },
  sequentialLessons: { column: 'sequential_lessons', check: flag },
  prerequisites: { column: 'prerequisites', check: flag },
  courseType: { column: 'course_type', check: (f, v) => checkOneOf(f, v, COURSE_TYPES) },
  protocol: { column: 'protocol', check: (f, v) => checkOneOf(f, v, PROTOCOLS) },
  reviewMode: { column: 'review_mode', check: (f, v) => checkOneOf(f, v, CMI_MODES) },
  browseMode: { column: 'browse_mode', check: (f, v) => checkOneOf(f, v, CMI_MODES) },
  windowWidth: { column: 'window_width', check: checkPixels },
  windowHeight: { column: 'window_height', check: checkPixels },
  fullScreen: { column: 'full_screen', check: flag },
};

/** The columns a CourseFields sets, with their checked values (absent fields left out) and
 * the sequential/prerequisites rule applied (one given sets the other to its opposite). */
export function courseFieldColumns(given: CourseFields): Map<string, unknown> {
  const fields = { ...given, ...sequentialAndPrerequisites(given.sequentialLessons, given.prerequisites) };
  const values = new Map<string, unknown>();
  for (const [key, spec] of Object.entries(FIELDS) as [keyof CourseFields, Spec<keyof CourseFields>][]) {
    const value = fields[key];
    if (value !== undefined) values.set(spec.column, (spec.check as (f: string, v: unknown) => unknown)(key, value));
  }
  return values;
}

/** courseFieldColumns, and the folder (a course folder) and category checked to exist. Checks
 * every value before it touches a row. */
export async function courseColumns(q: Queryable, given: CourseFields): Promise<Map<string, unknown>> {
  const values = courseFieldColumns(given);
  const folderId = values.get('folder_id');
  if (typeof folderId === 'string') {
    const folder = await findFolderRow(q, folderId, 'folderId');
    if (folder.kind !== 'course') throw invalidArgument('folderId', 'folderId must be a course folder');
  }
  const categoryId = values.get('category_id');
  if (typeof categoryId === 'string') {
    const { rows } = await q.query('SELECT 1 FROM categories WHERE id = $1', [categoryId]);
    if (rows.length === 0) throw notFound(`no category with id ${categoryId}`, 'categoryId');
  }
  return values;
}
