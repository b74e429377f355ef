import { alreadyExists, type Emit, failedPrecondition, invalidArgument, Params, type Queryable, uniqueViolation } from '@assistants/kit';
import type { Course, CourseFields, CreateCourseRequest, UpdateCourseRequest } from '@assistants/proto/gen/catalog/v1/courses';
import type { Audiences } from './audiences';
import type { Caller } from './caller';
import { courseColumns } from './course-fields';
import { findCourse, findCourseRow, loadCourses } from './courses.repo';
import { events } from './events';
import { insertLessons } from './lessons';

function mapUniqueViolation(err: unknown, values: Map<string, unknown>): never {
  if (uniqueViolation(err) === 'courses_code_key') {
    throw alreadyExists(`a course with the unique id "${values.get('code')}" already exists`, 'code');
  }
  throw err;
}

/** Creates a course with its audiences (which identity must know) and its lessons. */
export async function createCourse(
  tx: Queryable,
  emit: Emit,
  caller: Caller,
  audiences: Audiences,
  req: CreateCourseRequest,
): Promise<Course> {
  caller.requireWrite();
  const fields: CourseFields = req.fields ?? {};
  for (const required of ['code', 'name'] as const) {
    if (fields[required] === undefined) throw invalidArgument(required, `${required} is required`);
  }
  const values = await courseColumns(tx, fields);
  const audienceIds = await audiences.requireExisting('audienceIds', req.audienceIds);
  values.set('audience_ids', [...audienceIds].sort());
  const p = new Params();
  const columns = [...values.keys()];
  let id: string;
  try {
    const { rows } = await tx.query<{ id: string }>(
      `INSERT INTO courses (${columns.join(', ')}) VALUES (${columns.map((c) => p.add(values.get(c))).join(', ')}) RETURNING id`,
      p.values,
    );
    id = rows[0].id;
  } catch (err) {
    mapUniqueViolation(err, values);
  }
  const lessons = await insertLessons(tx, id, req.lessons, 'lessons');
  const course = (await loadCourses(tx, [id]))[0];
  events.course(emit, 'created', course);
  for (const lesson of lessons) events.lesson(emit, 'created', lesson);
  return course;
}

export async function getCourse(q: Queryable, caller: Caller, ref: { id: string; code: string }): Promise<Course> {
  caller.requireRead();
  if (!ref.id && !ref.code) throw invalidArgument('id', 'id or code is required');
  return findCourse(q, ref, ref.id ? 'id' : 'code');
}

/** Changes the fields given (a patch) and, when asked, replaces the audiences. */
export async function updateCourse(
  tx: Queryable,
  emit: Emit,
  caller: Caller,
  audiences: Audiences,
  req: UpdateCourseRequest,
): Promise<Course> {
  caller.requireWrite();
  const current = await findCourseRow(tx, { id: req.id }, 'id', true);
  const values = await courseColumns(tx, req.fields ?? {});
  if (req.replaceAudiences) values.set('audience_ids', [...(await audiences.requireExisting('audienceIds', req.audienceIds))].sort());
  const changed = [...values.entries()].filter(([column, value]) => !sameValue((current as Record<string, unknown>)[column], value));
  if (changed.length === 0) return (await loadCourses(tx, [current.id]))[0];
  const p = new Params();
  const assignments = changed.map(([column, value]) => `${column} = ${p.add(value)}`);
  try {
    await tx.query(`UPDATE courses SET ${assignments.join(', ')}, updated_at = now() WHERE id = ${p.add(current.id)}`, p.values);
  } catch (err) {
    mapUniqueViolation(err, values);
  }
  const course = (await loadCourses(tx, [current.id]))[0];
  events.course(emit, 'updated', course);
  return course;
}

/** Deletes a course and its lessons; refused while a curriculum holds it. */
export async function deleteCourse(tx: Queryable, emit: Emit, caller: Caller, id: string): Promise<void> {
  caller.requireWrite();
  const row = await findCourseRow(tx, { id }, 'id', true);
  const { rows } = await tx.query<{ code: string }>(
    `SELECT c.code FROM curriculum_courses cc JOIN curricula c ON c.id = cc.curriculum_id WHERE cc.course_id = $1 ORDER BY c.code LIMIT 5`,
    [row.id],
  );
  if (rows.length > 0) {
    throw failedPrecondition(`the course is part of curricula (${rows.map((r) => r.code).join(', ')}): take it out of them first`, 'id');
  }
  const course = (await loadCourses(tx, [row.id]))[0];
  await tx.query('DELETE FROM courses WHERE id = $1', [row.id]);
  for (const lesson of course.lessons) events.lesson(emit, 'deleted', lesson);
  events.course(emit, 'deleted', course);
}

/** Whether a stored value and a checked given one are the same (arrays of ids element-wise). */
export function sameValue(stored: unknown, given: unknown): boolean {
  if (Array.isArray(stored) && Array.isArray(given)) return stored.length === given.length && stored.every((v, i) => v === given[i]);
  return stored === given;
}
