import type { Queryable } from '@assistants/kit';
import type { Certificate } from '@assistants/proto/gen/assignment/v1/common';

export type CertificateRow = {
  user_id: string;
  course_id: string;
  template_id: string;
  issued_at: Date;
  reissue_count: number;
};

export function toCertificate(row: CertificateRow): Certificate {
  return {
    userId: row.user_id,
    courseId: row.course_id,
    templateId: row.template_id,
    issuedAt: row.issued_at.toISOString(),
    reissueCount: row.reissue_count,
  };
}

type Issue = { userId: string; courseId: string; templateId: string };

/** Issues certificates to pairs that hold none; returns those issued. */
export async function insertCertificates(tx: Queryable, issues: Issue[]): Promise<CertificateRow[]> {
  if (issues.length === 0) return [];
  const { rows } = await tx.query<CertificateRow>(
    `INSERT INTO certificates (user_id, course_id, template_id)
     SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[])
     ON CONFLICT (user_id, course_id) DO NOTHING
     RETURNING *`,
    [issues.map((i) => i.userId), issues.map((i) => i.courseId), issues.map((i) => i.templateId)],
  );
  return rows;
}

/** Issues the certificates of these pairs again with the given templates; returns each
 * reissued one with the template it had. */
export async function reissueCertificates(tx: Queryable, issues: Issue[]): Promise<(CertificateRow & { previous_template_id: string })[]> {
  if (issues.length === 0) return [];
  const { rows } = await tx.query<CertificateRow & { previous_template_id: string }>(
    `WITH previous AS (
       SELECT c.user_id, c.course_id, c.template_id, t.template_id AS next_template_id
         FROM certificates c JOIN unnest($1::uuid[], $2::uuid[], $3::text[]) AS t(user_id, course_id, template_id)
           ON c.user_id = t.user_id AND c.course_id = t.course_id
        ORDER BY c.user_id, c.course_id
          FOR UPDATE OF c
     )
     UPDATE certificates c
        SET template_id = p.next_template_id, issued_at = now(), reissue_count = c.reissue_count + 1
       FROM previous p
      WHERE c.user_id = p.user_id AND c.course_id = p.course_id
      RETURNING c.*, p.template_id AS previous_template_id`,
    [issues.map((i) => i.userId), issues.map((i) => i.courseId), issues.map((i) => i.templateId)],
  );
  return rows;
}

export async function certificatesOfUser(q: Queryable, userId: string): Promise<CertificateRow[]> {
  const { rows } = await q.query<CertificateRow>('SELECT * FROM certificates WHERE user_id = $1 ORDER BY course_id', [userId]);
  return rows;
}
