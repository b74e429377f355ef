import type { Queryable } from '@assistants/kit';
import type { Tutorship } from '@assistants/proto/gen/assignment/v1/common';

export type TutorshipRow = { tutor_id: string; course_id: string; list_id: string; assigned_at: Date };

export function toTutorship(row: TutorshipRow): Tutorship {
  return { tutorId: row.tutor_id, courseId: row.course_id, listId: row.list_id, assignedAt: row.assigned_at.toISOString() };
}

/** Records the tutorships that do not exist yet; returns those recorded. */
export async function insertTutorships(tx: Queryable, tutorships: { tutorId: string; courseId: string; listId: string }[]) {
  if (tutorships.length === 0) return [];
  const { rows } = await tx.query<TutorshipRow>(
    `INSERT INTO tutorships (tutor_id, course_id, list_id)
     SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[])
     ON CONFLICT DO NOTHING
     RETURNING *`,
    [tutorships.map((t) => t.tutorId), tutorships.map((t) => t.courseId), tutorships.map((t) => t.listId)],
  );
  return rows;
}

export async function tutorshipsOfUser(q: Queryable, userId: string): Promise<TutorshipRow[]> {
  const { rows } = await q.query<TutorshipRow>('SELECT * FROM tutorships WHERE tutor_id = $1 ORDER BY course_id, list_id', [userId]);
  return rows;
}
