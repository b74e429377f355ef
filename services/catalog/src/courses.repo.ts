import { invalidArgument, isId, notFound, type Queryable } from '@assistants/kit';
import { LessonType, type Course, type CourseSummary, type Lesson } from '@assistants/proto/gen/catalog/v1/courses';

export type CourseRow = {
  id: string;
  code: string;
  name: string;
  description: string;
  disabled: boolean;
  audience_ids: string[];
  certificate_template_id: string;
  external_training: boolean;
  provider: string;
  modality: string;
  free_text1: string;
  free_text2: string;
  custom1: string;
  custom2: string;
  custom3: string;
  custom4: string;
  custom5: string;
  custom6: string;
  custom7: string;
  custom8: string;
  custom9: string;
  custom10: string;
  folder_id: string | null;
  category_id: string | null;
  self_enrolment: boolean;
  self_unenrolment: boolean;
  learner_may_clear_stats: boolean;
  learner_may_recompute_status: boolean;
  sequential_lessons: boolean;
  prerequisites: boolean;
  course_type: string;
  protocol: string;
  review_mode: string;
  browse_mode: string;
  window_width: number;
  window_height: number;
  full_screen: boolean;
  created_at: Date;
  updated_at: Date;
};

export type LessonRow = {
  id: string;
  course_id: string;
  code: string;
  name: string;
  type: string;
  position: number;
  optional: boolean;
  description: string;
  created_at: Date;
  updated_at: Date;
};

/** The custom fields of courses and curricula, as columns and as JSON names. */
export const CUSTOM_FIELDS = [
  'custom1',
  'custom2',
  'custom3',
  'custom4',
  'custom5',
  'custom6',
  'custom7',
  'custom8',
  'custom9',
  'custom10',
] as const;

const LESSON_TYPES: Record<string, LessonType> = {
  A: LessonType.LESSON_TYPE_A,
  L: LessonType.LESSON_TYPE_L,
  W: LessonType.LESSON_TYPE_W,
  T: LessonType.LESSON_TYPE_T,
  E: LessonType.LESSON_TYPE_E,
};

/** A lesson type's letter, or undefined for UNSPECIFIED and unknown values. */
export function lessonTypeLetter(type: LessonType): string | undefined {
  return Object.entries(LESSON_TYPES).find(([, t]) => t === type)?.[0];
}

export function toLesson(row: LessonRow): Lesson {
  return {
    id: row.id,
    courseId: row.course_id,
    code: row.code,
    name: row.name,
    type: LESSON_TYPES[row.type],
    position: row.position,
    optional: row.optional,
    description: row.description,
  };
}

export function toCourse(row: CourseRow, lessons: Lesson[]): Course {
  return {
    id: row.id,
    code: row.code,
    name: row.name,
    description: row.description,
    disabled: row.disabled,
    audienceIds: row.audience_ids,
    certificateTemplateId: row.certificate_template_id,
    externalTraining: row.external_training,
    lessons,
    provider: row.provider,
    modality: row.modality,
    freeText1: row.free_text1,
    freeText2: row.free_text2,
    custom1: row.custom1,
    custom2: row.custom2,
    custom3: row.custom3,
    custom4: row.custom4,
    custom5: row.custom5,
    custom6: row.custom6,
    custom7: row.custom7,
    custom8: row.custom8,
    custom9: row.custom9,
    custom10: row.custom10,
    folderId: row.folder_id ?? '',
    categoryId: row.category_id ?? '',
    settings: {
      selfEnrolment: row.self_enrolment,
      selfUnenrolment: row.self_unenrolment,
      learnerMayClearStats: row.learner_may_clear_stats,
      learnerMayRecomputeStatus: row.learner_may_recompute_status,
      sequentialLessons: row.sequential_lessons,
      prerequisites: row.prerequisites,
      courseType: row.course_type,
      protocol: row.protocol,
      reviewMode: row.review_mode,
      browseMode: row.browse_mode,
      windowWidth: row.window_width,
      windowHeight: row.window_height,
      fullScreen: row.full_screen,
    },
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export type SummaryRow = Pick<CourseRow, 'id' | 'code' | 'name' | 'provider' | 'modality' | 'disabled' | 'audience_ids'>;

export function toSummary(row: SummaryRow): CourseSummary {
  return {
    id: row.id,
    code: row.code,
    name: row.name,
    provider: row.provider,
    modality: row.modality,
    disabled: row.disabled,
    audienceIds: row.audience_ids,
  };
}

/** The courses with these ids, with their lessons, in the order of `ids` (unknown ids and
 * non-ids are left out). Two statements, whatever the number of courses. */
export async function loadCourses(q: Queryable, ids: string[]): Promise<Course[]> {
  const wanted = [...new Set(ids.filter(isId).map((id) => id.toLowerCase()))];
  if (wanted.length === 0) return [];
  const [courses, lessons] = await Promise.all([
    q.query<CourseRow>('SELECT * FROM courses WHERE id = ANY($1::uuid[])', [wanted]),
    q.query<LessonRow>('SELECT * FROM lessons WHERE course_id = ANY($1::uuid[]) ORDER BY course_id, position', [wanted]),
  ]);
  const byCourse = new Map<string, Lesson[]>();
  for (const row of lessons.rows) {
    const list = byCourse.get(row.course_id) ?? [];
    list.push(toLesson(row));
    byCourse.set(row.course_id, list);
  }
  const byId = new Map(courses.rows.map((row) => [row.id, toCourse(row, byCourse.get(row.id) ?? [])]));
  return wanted.flatMap((id) => byId.get(id) ?? []);
}

/** The ids of the courses or curricula with these codes (case-insensitive), in one query
 * (an import's chunk: at most 5,000). */
export async function idsOfCodes(q: Queryable, table: 'courses' | 'curricula', codes: string[]): Promise<string[]> {
  if (codes.length > 5_000) throw invalidArgument('codes', `at most 5000 codes per call, got ${codes.length}`);
  const folded = [...new Set(codes.map((c) => c.toLowerCase()))];
  const { rows } = await q.query<{ id: string }>(`SELECT id FROM ${table} WHERE lower(code) = ANY($1::text[])`, [folded]);
  return rows.map((r) => r.id);
}

/** A course by id or code; NOT_FOUND naming `field` otherwise. `lock` takes its row lock
 * (for a change). */
export async function findCourseRow(q: Queryable, ref: { id?: string; code?: string }, field = 'id', lock = false): Promise<CourseRow> {
  const forUpdate = lock ? ' FOR UPDATE' : '';
  let rows: CourseRow[] = [];
  if (ref.id) {
    if (isId(ref.id)) rows = (await q.query<CourseRow>(`SELECT * FROM courses WHERE id = $1${forUpdate}`, [ref.id.toLowerCase()])).rows;
  } else if (ref.code) {
    rows = (await q.query<CourseRow>(`SELECT * FROM courses WHERE lower(code) = lower($1)${forUpdate}`, [ref.code])).rows;
  }
  if (!rows[0]) throw notFound(`no course ${JSON.stringify(ref.id || ref.code || '')}`, field);
  return rows[0];
}

export async function findCourse(q: Queryable, ref: { id?: string; code?: string }, field = 'id', lock = false): Promise<Course> {
  const row = await findCourseRow(q, ref, field, lock);
  return (await loadCourses(q, [row.id]))[0];
}
