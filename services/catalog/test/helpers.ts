import { randomUUID } from 'node:crypto';
import { type EventEnvelope } from '@assistants/kit';
import { LessonType } from '@assistants/proto/gen/catalog/v1/courses';
import {
  actingAs,
  type CatalogClient,
  EventLog,
  type IdentityClient,
  type IdentityFixture,
  startCatalog,
  startIdentityFixture,
  type TestCatalog,
} from '@assistants/testing';

/** Shared by the catalog integration tests (not a test file: jest runs *.test.ts only). */

export const ROOT_ORGANISATION_ID = '00000000-0000-4000-8000-000000000001';
export const UNKNOWN_ID = '3f0c8a52-8a8e-4a57-9c38-2a4f1b0a0b0b';

/** Identity and the catalog on one real NATS server and one database, and catalog clients
 * acting as identity's first administrator. */
export interface CatalogBed {
  fixture: IdentityFixture;
  catalog: TestCatalog;
  /** Acting as the first administrator (every permission on the root). */
  api: CatalogClient;
  as(userId: string): CatalogClient;
  events: EventLog;
  stop(): Promise<void>;
}

export async function startCatalogBed(name: string): Promise<CatalogBed> {
  const fixture = await startIdentityFixture(name);
  try {
    const catalog = await startCatalog({ nats: fixture.nats, pg: fixture.pg, identityAddress: fixture.identity.address });
    return {
      fixture,
      catalog,
      api: actingAs(catalog.client, fixture.adminId),
      as: (userId) => actingAs(catalog.client, userId),
      events: new EventLog(catalog, 'CATALOG'),
      async stop() {
        await catalog.stop();
        await fixture.stop();
      },
    };
  } catch (err) {
    await fixture.stop();
    throw err;
  }
}

let actors = 0;

/** A new user of the root organisation holding a role with `permissions` on each
 * organisation given; returns its id and identity clients acting as it. */
export async function actorWithin(
  fixture: IdentityFixture,
  organisationIds: string[],
  permissions = ['*'],
): Promise<{ id: string; identity: IdentityClient }> {
  const n = ++actors;
  const { user } = await fixture.api.users.createUser({
    fields: { login: `catalog-actor-${n}`, lastName: 'Actor', firstName: `Catalog ${n}`, organisationId: ROOT_ORGANISATION_ID },
    audienceIds: [],
  });
  const { role } = await fixture.api.roles.createRole({ name: `Catalog role ${n}`, description: '', permissions });
  for (const organisationId of organisationIds) {
    await fixture.api.roles.grantRoles({ userIds: [user!.id], roleIds: [role!.id], organisationId });
  }
  return { id: user!.id, identity: fixture.as(user!.id) };
}

export const subjects = (events: EventEnvelope[]) => events.map((e) => e.subject);

let codes = 0;

/** A unique code for test data. */
export const code = (prefix: string) => `${prefix}-${++codes}-${randomUUID().slice(0, 4)}`;

/** A lesson to create, of type L unless told. */
export const lesson = (name: string, type = LessonType.LESSON_TYPE_L) => ({ code: code('LSN'), name, type });

export { EventLog };
