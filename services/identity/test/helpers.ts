import { DomainError, type EventEnvelope } from '@assistants/kit';
import { UserFilter } from '@assistants/proto/gen/identity/v1/users';
import { EventLog, type IdentityClient, type IdentityFixture } from '@assistants/testing';

/** Shared by the identity integration tests (not a test file: jest runs *.test.ts only). */

let actors = 0;

/** Clients acting as a new user (of the root organisation, so that it shows in no scoped
 * search), holding a role with `permissions` (every one by default) on each organisation
 * given: an administrator scoped to those sub-trees. */
export async function actorWithin(fixture: IdentityFixture, organisationIds: string[], permissions = ['*']): Promise<IdentityClient> {
  const n = ++actors;
  const { user } = await fixture.api.users.createUser({
    fields: { login: `scoped-actor-${n}`, lastName: 'Actor', firstName: `Scoped ${n}`, organisationId: ROOT_ORGANISATION_ID },
    audienceIds: [],
  });
  const { role } = await fixture.api.roles.createRole({ name: `Scoped role ${n}`, description: '', permissions });
  for (const organisationId of organisationIds) {
    await fixture.api.roles.grantRoles({ userIds: [user!.id], roleIds: [role!.id], organisationId });
  }
  return fixture.as(user!.id);
}

/** Ids created by the first migration. */
export const ROOT_ORGANISATION_ID = '00000000-0000-4000-8000-000000000001';
export const ADMINISTRATOR_ROLE_ID = '00000000-0000-4000-8000-000000000002';
export const DEFAULT_FOLDER_ID = '00000000-0000-4000-8000-000000000003';

export const UNKNOWN_ID = '3f0c8a52-8a8e-4a57-9c38-2a4f1b0a0b0b';

/** A user filter with every criterion not given left unused. */
export const filter = (f: Partial<UserFilter> = {}): UserFilter => UserFilter.fromPartial(f);

/** The DomainError that `fn`, a synchronous check, throws. */
export function refusal(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DomainError);
    return err as DomainError;
  }
  throw new Error('expected a refusal');
}

/** Subjects, in order. */
export const subjects = (events: EventEnvelope[]) => events.map((e) => e.subject);

/** Checks the envelope of every event: an id, a time, and the caller's correlation id. */
export function expectEnvelopes(events: EventEnvelope[], correlationId: string): void {
  expect(events.length).toBeGreaterThan(0);
  for (const e of events) {
    expect(e.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number.isNaN(Date.parse(e.time))).toBe(false);
    expect(e.correlationId).toBe(correlationId);
  }
}

export { EventLog };
