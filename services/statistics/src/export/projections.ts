import type { ConsumerDefinition, DeliveredEvent, Queryable } from '@assistants/kit';
import { Category, Folder, FolderKind } from '@assistants/proto/gen/catalog/v1/structure';
import {
  AudienceChanged,
  AudienceDeleted,
  OrganisationChanged,
  OrganisationDeleted,
  UserChanged,
  UserDeleted,
} from '@assistants/proto/gen/identity/v1/events';
import { customFields, idOrNull } from '../values';
import {
  deleteAudience,
  deleteFolder,
  deleteOrganisation,
  deleteUsers,
  upsertAudiences,
  upsertCategory,
  upsertFolder,
  upsertOrganisation,
  upsertUsers,
  type UserCopy,
} from './projections.repo';

/*
 * The export's projections of identity (users with their audiences, organisations with
 * their path in the tree, audience names) and of the catalogue's folders and categories.
 */

export const IDENTITY_PROJECTION_DURABLE = 'statistics-identity';
export const IDENTITY_STREAM = { name: 'IDENTITY', subjects: ['identity.>'] };

function userCopy(e: UserChanged): UserCopy | undefined {
  const u = e.user;
  if (!u) return undefined;
  return {
    id: u.id.toLowerCase(),
    login: u.login,
    extId: u.extId,
    lastName: u.lastName,
    firstName: u.firstName,
    email: u.email,
    language: u.language,
    activationDate: u.activationDate,
    expirationDate: u.expirationDate,
    disabled: u.disabled,
    organisationId: idOrNull(u.organisationId),
    managerId: idOrNull(u.managerId),
    secondaryManagerId: idOrNull(u.secondaryManagerId),
    city: u.city,
    country: u.country,
    custom: customFields(u),
    lastLoginAt: u.lastLoginAt,
    audiences: u.audiences.map((a) => ({ id: a.id.toLowerCase(), name: a.name })),
    version: u.updatedAt || u.createdAt || new Date(0).toISOString(),
  };
}

/** Applies identity events in stream order; runs of user changes go in one statement (an
 * import of 50,000 users is 50,000 events), everything else one by one. */
export async function applyIdentityEvents(tx: Queryable, delivered: DeliveredEvent[]): Promise<void> {
  let users: UserCopy[] = [];
  const flush = async () => {
    await upsertUsers(tx, users);
    users = [];
  };
  for (const { event } of delivered) {
    const match = /^identity\.(user|organisation|audience)\.(created|updated|deleted)\.v1$/.exec(event.subject);
    if (!match) continue;
    const [, kind, verb] = match;
    if (kind === 'user' && verb !== 'deleted') {
      const copy = userCopy(UserChanged.fromJSON(event.data));
      if (copy) users.push(copy);
      continue;
    }
    await flush();
    if (kind === 'user') await deleteUsers(tx, [UserDeleted.fromJSON(event.data).id.toLowerCase()]);
    else if (kind === 'organisation' && verb === 'deleted')
      await deleteOrganisation(tx, OrganisationDeleted.fromJSON(event.data).id.toLowerCase());
    else if (kind === 'organisation') {
      const o = OrganisationChanged.fromJSON(event.data).organisation;
      if (o) {
        await upsertOrganisation(tx, {
          id: o.id.toLowerCase(),
          extId: o.extId,
          label: o.label,
          parentId: idOrNull(o.parentId),
          version: o.updatedAt || o.createdAt || new Date(0).toISOString(),
        });
      }
    } else if (verb === 'deleted') await deleteAudience(tx, AudienceDeleted.fromJSON(event.data).id.toLowerCase());
    else {
      const a = AudienceChanged.fromJSON(event.data).audience;
      if (a) await upsertAudiences(tx, [{ id: a.id.toLowerCase(), name: a.name }]);
    }
  }
  await flush();
}

/** identity.user.*, identity.organisation.*, identity.audience.* (the rest of the stream is
 * skipped). Grouped: a bulk user import or change is handled a few statements per group. 128
 * at a time: an import's events came in groups of about 30 at 64, and the projection's CPU a
 * user fell by 16 % at 128 (BENCHMARKS.md, bench:import a). Each handler then has the ack
 * wait / 129 (465 ms at the default 60 s; a group of 128 users is about 20 ms of work). */
export function identityProjectionConsumer(): ConsumerDefinition {
  return {
    stream: IDENTITY_STREAM.name,
    durable: IDENTITY_PROJECTION_DURABLE,
    subject: 'identity.>',
    prefetch: 128,
    groupHandler: (delivered, { tx }) => applyIdentityEvents(tx, delivered),
  };
}

/** catalog.folder.* and catalog.category.* (from the catalogue consumer). */
export async function applyStructureEvent(tx: Queryable, kind: 'folder' | 'category', deleted: boolean, data: unknown): Promise<void> {
  if (kind === 'category') {
    const c = Category.fromJSON(data);
    await upsertCategory(tx, { id: c.id.toLowerCase(), name: c.name, deleted });
    return;
  }
  const f = Folder.fromJSON(data);
  if (deleted) return deleteFolder(tx, f.id.toLowerCase());
  await upsertFolder(tx, {
    id: f.id.toLowerCase(),
    kind: f.kind === FolderKind.FOLDER_KIND_CURRICULUM ? 'curriculum' : 'course',
    name: f.name,
    parentId: idOrNull(f.parentId),
  });
}
