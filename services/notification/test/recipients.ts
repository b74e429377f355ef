import { randomUUID } from 'node:crypto';
import type { IdentityFixture } from '@assistants/testing';

const ROOT = '00000000-0000-4000-8000-000000000001';

/** `count` users with an email each (`<prefix>-<i>@example.org`), created through identity 20
 * at a time; their ids in order. */
export async function createRecipients(fixture: IdentityFixture, count: number, prefix: string): Promise<string[]> {
  const ids: string[] = [];
  const tag = randomUUID().slice(0, 6);
  for (let i = 0; i < count; i += 20) {
    const created = await Promise.all(
      Array.from({ length: Math.min(20, count - i) }, (_, j) =>
        fixture.api.users.createUser({
          fields: {
            login: `${prefix}-${tag}-${i + j}`,
            lastName: prefix,
            firstName: `${prefix}${i + j}`,
            email: `${prefix}-${i + j}@example.org`,
            organisationId: ROOT,
          },
          audienceIds: [],
        }),
      ),
    );
    ids.push(...created.map((c) => c.user!.id));
  }
  return ids;
}
