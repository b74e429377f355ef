import {
  alreadyExists,
  checkText,
  type Emit,
  invalidArgument,
  isId,
  notFound,
  Params,
  type Queryable,
  uniqueViolation,
} from '@assistants/kit';
import { LessonType, type Lesson, type LessonFields } from '@assistants/proto/gen/catalog/v1/courses';
import type { Caller } from './caller';
import { findCourseRow, lessonTypeLetter, loadCourses, toLesson, type LessonRow } from './courses.repo';
import { events } from './events';
import { checkCode } from './validation';

function checkType(field: string, type: LessonType): string {
  const letter = lessonTypeLetter(type);
  if (!letter) throw invalidArgument(field, `${field} must be one of LESSON_TYPE_A, _L, _W, _T or _E`);
  return letter;
}

/** The checked values of a new lesson's fields (`field` is where it sits in the request,
 * "" when the lesson is the request). */
function newLesson(fields: LessonFields | undefined, field: string) {
  const f: LessonFields = fields ?? { type: LessonType.LESSON_TYPE_UNSPECIFIED };
  const at = (key: string) => (field ? `${field}.${key}` : key);
  if (f.code === undefined) throw invalidArgument(at('code'), `${at('code')} is required`);
  if (f.name === undefined) throw invalidArgument(at('name'), `${at('name')} is required`);
  return {
    code: checkCode(at('code'), f.code),
    name: checkText(at('name'), f.name, { required: true, max: 255 }),
    type: checkType(at('type'), f.type),
    optional: f.optional ?? false,
    description: checkText(at('description'), f.description ?? '', { max: 4000 }),
  };
}

function mapUniqueViolation(err: unknown, field: (code: string) => string, codes: string[]): never {
  if (uniqueViolation(err) === 'lessons_code_key') {
    const detail = (err as { detail?: string }).detail ?? '';
    const code = codes.find((c) => detail.toLowerCase().includes(`(${c.toLowerCase()})`)) ?? codes[0];
    throw alreadyExists(`a lesson with the unique id "${code}" already exists`, field(code));
  }
  throw err;
}

/** The lessons of a new course, in the order given (positions 1..n). One statement. */
export async function insertLessons(tx: Queryable, courseId: string, given: LessonFields[], field: string): Promise<Lesson[]> {
  if (given.length === 0) return [];
  const lessons = given.map((f, i) => newLesson(f, `${field}[${i}]`));
  const seen = new Map<string, number>();
  lessons.forEach((l, i) => {
    const first = seen.get(l.code.toLowerCase());
    if (first !== undefined) throw invalidArgument(`${field}[${i}].code`, `${field}[${i}].code repeats ${field}[${first}].code`);
    seen.set(l.code.toLowerCase(), i);
  });
  try {
    const { rows } = await tx.query<LessonRow>(
      `INSERT INTO lessons (course_id, code, name, type, position, optional, description)
       SELECT $1, code, name, type, position::int, optional, description
         FROM unnest($2::text[], $3::text[], $4::text[], $5::int[], $6::boolean[], $7::text[]) AS l(code, name, type, position, optional, description)
       RETURNING *`,
      [
        courseId,
        lessons.map((l) => l.code),
        lessons.map((l) => l.name),
        lessons.map((l) => l.type),
        lessons.map((_l, i) => i + 1),
        lessons.map((l) => l.optional),
        lessons.map((l) => l.description),
      ],
    );
    return rows.map(toLesson).sort((a, b) => a.position - b.position);
  } catch (err) {
    mapUniqueViolation(
      err,
      (code) => `${field}[${lessons.findIndex((l) => l.code === code)}].code`,
      lessons.map((l) => l.code),
    );
  }
}

async function lessonCount(tx: Queryable, courseId: string): Promise<number> {
  const { rows } = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM lessons WHERE course_id = $1', [courseId]);
  return rows[0].n;
}

function checkPosition(position: number, max: number): number {
  if (!Number.isInteger(position) || position < 1 || position > max) {
    throw invalidArgument('position', `position must be between 1 and ${max}, got ${position}`);
  }
  return position;
}

/** A change to a lesson is a change to its course, which carries its lessons. */
async function courseChanged(tx: Queryable, emit: Emit, courseId: string): Promise<void> {
  await tx.query('UPDATE courses SET updated_at = now() WHERE id = $1', [courseId]);
  events.course(emit, 'updated', (await loadCourses(tx, [courseId]))[0]);
}

async function findLessonRow(tx: Queryable, id: string): Promise<LessonRow> {
  const rows = isId(id) ? (await tx.query<LessonRow>('SELECT * FROM lessons WHERE id = $1', [id.toLowerCase()])).rows : [];
  if (!rows[0]) throw notFound(`no lesson with id ${JSON.stringify(id)}`, 'id');
  return rows[0];
}

/** Adds a lesson to a course: last, or at `position` (the lessons from there move down). */
export async function addLesson(
  tx: Queryable,
  emit: Emit,
  caller: Caller,
  courseId: string,
  fields: LessonFields | undefined,
): Promise<Lesson> {
  caller.requireWrite();
  const course = await findCourseRow(tx, { id: courseId }, 'courseId', true);
  const lesson = newLesson(fields, '');
  const count = await lessonCount(tx, course.id);
  const position = fields?.position === undefined ? count + 1 : checkPosition(fields.position, count + 1);
  await tx.query('UPDATE lessons SET position = position + 1 WHERE course_id = $1 AND position >= $2', [course.id, position]);
  let row: LessonRow;
  try {
    ({
      rows: [row],
    } = await tx.query<LessonRow>(
      `INSERT INTO lessons (course_id, code, name, type, position, optional, description) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
      [course.id, lesson.code, lesson.name, lesson.type, position, lesson.optional, lesson.description],
    ));
  } catch (err) {
    mapUniqueViolation(err, () => 'code', [lesson.code]);
  }
  const created = toLesson(row);
  events.lesson(emit, 'created', created);
  await courseChanged(tx, emit, course.id);
  return created;
}

/** Changes a lesson (a patch); a new position moves it among its course's lessons. */
export async function updateLesson(
  tx: Queryable,
  emit: Emit,
  caller: Caller,
  id: string,
  fields: LessonFields | undefined,
): Promise<Lesson> {
  caller.requireWrite();
  const current = await findLessonRow(tx, id);
  await findCourseRow(tx, { id: current.course_id }, 'id', true);
  const f = fields ?? { type: LessonType.LESSON_TYPE_UNSPECIFIED };
  const values = new Map<string, unknown>();
  if (f.code !== undefined) values.set('code', checkCode('code', f.code));
  if (f.name !== undefined) values.set('name', checkText('name', f.name, { required: true, max: 255 }));
  if (f.type !== LessonType.LESSON_TYPE_UNSPECIFIED) values.set('type', checkType('type', f.type));
  if (f.optional !== undefined) values.set('optional', f.optional);
  if (f.description !== undefined) values.set('description', checkText('description', f.description, { max: 4000 }));
  if (f.position !== undefined) {
    const to = checkPosition(f.position, await lessonCount(tx, current.course_id));
    const from = current.position;
    if (to < from) {
      await tx.query('UPDATE lessons SET position = position + 1 WHERE course_id = $1 AND position >= $2 AND position < $3', [
        current.course_id,
        to,
        from,
      ]);
    } else if (to > from) {
      await tx.query('UPDATE lessons SET position = position - 1 WHERE course_id = $1 AND position > $2 AND position <= $3', [
        current.course_id,
        from,
        to,
      ]);
    }
    values.set('position', to);
  }
  const changed = [...values.entries()].filter(([column, value]) => (current as Record<string, unknown>)[column] !== value);
  if (changed.length === 0) return toLesson(current);
  const p = new Params();
  const assignments = changed.map(([column, value]) => `${column} = ${p.add(value)}`);
  let row: LessonRow;
  try {
    ({
      rows: [row],
    } = await tx.query<LessonRow>(
      `UPDATE lessons SET ${assignments.join(', ')}, updated_at = now() WHERE id = ${p.add(current.id)} RETURNING *`,
      p.values,
    ));
  } catch (err) {
    mapUniqueViolation(err, () => 'code', [String(values.get('code'))]);
  }
  const lesson = toLesson(row);
  events.lesson(emit, 'updated', lesson);
  await courseChanged(tx, emit, current.course_id);
  return lesson;
}

/** Deletes a lesson; the ones after it move up. */
export async function deleteLesson(tx: Queryable, emit: Emit, caller: Caller, id: string): Promise<void> {
  caller.requireWrite();
  const current = await findLessonRow(tx, id);
  await findCourseRow(tx, { id: current.course_id }, 'id', true);
  await tx.query('DELETE FROM lessons WHERE id = $1', [current.id]);
  await tx.query('UPDATE lessons SET position = position - 1 WHERE course_id = $1 AND position > $2', [
    current.course_id,
    current.position,
  ]);
  events.lesson(emit, 'deleted', toLesson(current));
  await courseChanged(tx, emit, current.course_id);
}
