import type { ConsumerDefinition, Emit, Queryable } from '@assistants/kit';
import { AudienceDeleted } from '@assistants/proto/gen/identity/v1/events';
import { COURSES } from './course-actions';
import { CURRICULA } from './curriculum-actions';

/** An audience deleted in identity leaves the courses and curricula that carried it (each
 * gets its `updated` event): a course keeps no audience nobody can hold any more. */
export async function removeAudience(tx: Queryable, emit: Emit, audienceId: string): Promise<void> {
  for (const target of [COURSES, CURRICULA]) {
    const { rows } = await tx.query<{ id: string }>(
      `UPDATE ${target.table} SET audience_ids = array_remove(audience_ids, $1::uuid), updated_at = now()
        WHERE audience_ids @> ARRAY[$1::uuid] RETURNING id`,
      [audienceId],
    );
    if (rows.length > 0)
      await target.emitUpdated(
        tx,
        emit,
        rows.map((r) => r.id),
      );
  }
}

export const audienceRemoval: ConsumerDefinition = {
  stream: 'IDENTITY',
  durable: 'catalog-audience-removal',
  subject: 'identity.audience.deleted.v1',
  handler: async (event, { tx, emit }) => {
    const { id } = AudienceDeleted.fromJSON(event.data);
    if (id) await removeAudience(tx, emit, id);
  },
};
