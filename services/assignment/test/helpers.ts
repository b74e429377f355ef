import { randomUUID } from 'node:crypto';
import type { AssignmentClient } from '@assistants/assignment/client';
import { type EventEnvelope } from '@assistants/kit';
import type { BatchResult, ItemResult } from '@assistants/proto/gen/batch/v1/batch';
import { Outcome } from '@assistants/proto/gen/batch/v1/batch';
import type { CourseFields } from '@assistants/proto/gen/catalog/v1/courses';
import type { UserFields } from '@assistants/proto/gen/identity/v1/users';
import {
  actingAs,
  type CatalogClient,
  EventLog,
  type IdentityClient,
  type IdentityFixture,
  startAssignment,
  startCatalog,
  startIdentityFixture,
  type TestAssignment,
  type TestCatalog,
} from '@assistants/testing';

/** Shared by the assignment integration tests (not a test file: jest runs *.test.ts only). */

export const ROOT_ORGANISATION_ID = '00000000-0000-4000-8000-000000000001';
export const UNKNOWN_ID = '3f0c8a52-8a8e-4a57-9c38-2a4f1b0a0b0b';

/** Identity, catalog and assignment on one real NATS server and one database (a schema
 * each), with clients acting as identity's first administrator. */
export interface AssignmentBed {
  fixture: IdentityFixture;
  catalog: TestCatalog;
  assignment: TestAssignment;
  /** Assignment clients acting as the first administrator (every permission on the root). */
  api: AssignmentClient;
  as(userId: string): AssignmentClient;
  identity: IdentityClient;
  catalogApi: CatalogClient;
  events: EventLog;
  /** Organisations created for the tests: north (with lille under it) and south. */
  org: { north: string; lille: string; south: string };
  stop(): Promise<void>;
}

export async function startAssignmentBed(name: string): Promise<AssignmentBed> {
  const fixture = await startIdentityFixture(name);
  let catalog: TestCatalog | undefined;
  try {
    catalog = await startCatalog({ nats: fixture.nats, pg: fixture.pg, identityAddress: fixture.identity.address });
    const assignment = await startAssignment({
      nats: fixture.nats,
      pg: fixture.pg,
      identityAddress: fixture.identity.address,
      catalogAddress: catalog.address,
    });
    const org = { north: '', lille: '', south: '' };
    for (const [key, parent] of [
      ['north', ''],
      ['lille', 'north'],
      ['south', ''],
    ] as const) {
      const { organisation } = await fixture.api.organisations.createOrganisation({
        fields: { extId: `${key.toUpperCase()}-${name}`, label: key, parentId: parent ? org[parent] : undefined },
      });
      org[key] = organisation!.id;
    }
    const bed: AssignmentBed = {
      fixture,
      catalog,
      assignment,
      api: actingAs(assignment.client, fixture.adminId),
      as: (userId) => actingAs(assignment.client, userId),
      identity: fixture.api,
      catalogApi: actingAs(catalog.client, fixture.adminId),
      events: new EventLog(assignment, 'ASSIGNMENT'),
      org,
      async stop() {
        await assignment.stop();
        await catalog!.stop();
        await fixture.stop();
      },
    };
    return bed;
  } catch (err) {
    await catalog?.stop();
    await fixture.stop();
    throw err;
  }
}

let n = 0;
/** A unique code for test data. */
export const code = (prefix: string) => `${prefix}-${++n}-${randomUUID().slice(0, 4)}`;

export async function newUser(bed: AssignmentBed, fields: UserFields = {}, audienceIds: string[] = []): Promise<string> {
  const login = code('user');
  const { user } = await bed.identity.users.createUser({
    fields: {
      login,
      lastName: login.toUpperCase(),
      firstName: 'Test',
      email: `${login}@example.org`,
      language: 'fr-FR',
      title: 'Mme',
      organisationId: bed.org.north,
      ...fields,
    },
    audienceIds,
  });
  return user!.id;
}

export async function newAudience(bed: AssignmentBed): Promise<string> {
  const { audience } = await bed.identity.audiences.createAudience({ name: code('audience'), description: '' });
  return audience!.id;
}

export async function newCourse(
  bed: AssignmentBed,
  fields: CourseFields = {},
  audienceIds: string[] = [],
): Promise<{ id: string; code: string; name: string }> {
  const courseCode = code('CRS');
  const { course } = await bed.catalogApi.courses.createCourse({
    fields: { code: courseCode, name: `Course ${courseCode}`, ...fields },
    audienceIds,
    lessons: [],
  });
  return { id: course!.id, code: course!.code, name: course!.name };
}

export async function newCurriculum(
  bed: AssignmentBed,
  courseIds: string[],
  options: { audienceIds?: string[]; disabled?: boolean } = {},
): Promise<{ id: string; code: string; name: string }> {
  const curriculumCode = code('CUR');
  const { curriculum } = await bed.catalogApi.curricula.createCurriculum({
    fields: { code: curriculumCode, name: `Curriculum ${curriculumCode}`, disabled: options.disabled },
    audienceIds: options.audienceIds ?? [],
    courseIds,
  });
  return { id: curriculum!.id, code: curriculum!.code, name: curriculum!.name };
}

export async function newStaticList(bed: AssignmentBed, memberIds: string[], ownerOrganisationId = ''): Promise<string> {
  const { list } = await bed.identity.lists.createList({
    name: code('list'),
    description: '',
    type: 'static',
    folderId: '',
    memberIds,
    ownerOrganisationId,
  });
  return list!.id;
}

let actors = 0;

/** A new user of the root organisation holding a role with `permissions` on each
 * organisation given: an administrator scoped to those sub-trees. */
export async function actorWithin(bed: AssignmentBed, organisationIds: string[], permissions = ['*']): Promise<string> {
  const k = ++actors;
  const { user } = await bed.identity.users.createUser({
    fields: { login: `assignment-actor-${k}`, lastName: 'Actor', firstName: `Scoped ${k}`, organisationId: ROOT_ORGANISATION_ID },
    audienceIds: [],
  });
  const { role } = await bed.identity.roles.createRole({ name: `Assignment role ${k}`, description: '', permissions });
  for (const organisationId of organisationIds) {
    await bed.identity.roles.grantRoles({ userIds: [user!.id], roleIds: [role!.id], organisationId });
  }
  return user!.id;
}

/** A batch header with a fresh idempotency key. */
export const key = () => ({ idempotencyKey: `test:${randomUUID()}`, dryRun: false });
export const dryRun = () => ({ idempotencyKey: '', dryRun: true });

/** The results as [item, target, outcome, code] rows, for compact assertions. */
export function rows(result: BatchResult | undefined): [string, string, string, string][] {
  return (result?.results ?? []).map((r: ItemResult) => [r.itemId, r.targetId, Outcome[r.outcome].replace('OUTCOME_', ''), r.code]);
}

export const subjects = (events: EventEnvelope[]) => events.map((e) => e.subject);

/** Polls `check` until it returns a truthy value (or the time runs out). */
export { waitFor } from '@assistants/testing';

export { EventLog };
