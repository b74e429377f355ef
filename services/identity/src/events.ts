import type { Emit } from '@assistants/kit';
import {
  AudienceChanged,
  AudienceDeleted,
  ListChanged,
  ListDeleted,
  ListFolderChanged,
  ListMembershipChanged,
  OrganisationChanged,
  OrganisationDeleted,
  RoleChanged,
  RoleDeleted,
  RoleGrantChanged,
  UserChanged,
  UserDeleted,
} from '@assistants/proto/gen/identity/v1/events';

/** The identity service's stream and the subjects it publishes (see events.proto). */
export const STREAM = 'IDENTITY';
export const STREAM_SUBJECTS = ['identity.>'];

/** Typed emitters: each event's subject with the payload message that goes with it, and its
 * ordering key: the events of one key reach the stream in the order of their commits.
 * Memberships and grants are keyed by their user, so that whoever follows a user (its lists,
 * its roles, its deletion) sees them in order. Users created and updated travel in batches
 * (an import writes thousands at once: see EmitOptions in the kit's outbox.ts). */
const BATCH = { batch: true };

export const events = {
  organisationCreated: (emit: Emit, e: OrganisationChanged) =>
    emit('identity.organisation.created.v1', OrganisationChanged.toJSON(e), `organisation:${e.organisation!.id}`),
  organisationUpdated: (emit: Emit, e: OrganisationChanged) =>
    emit('identity.organisation.updated.v1', OrganisationChanged.toJSON(e), `organisation:${e.organisation!.id}`),
  organisationDeleted: (emit: Emit, e: OrganisationDeleted) =>
    emit('identity.organisation.deleted.v1', OrganisationDeleted.toJSON(e), `organisation:${e.id}`),
  userCreated: (emit: Emit, e: UserChanged) => emit('identity.user.created.v1', UserChanged.toJSON(e), `user:${e.user!.id}`, BATCH),
  userUpdated: (emit: Emit, e: UserChanged) => emit('identity.user.updated.v1', UserChanged.toJSON(e), `user:${e.user!.id}`, BATCH),
  userDeleted: (emit: Emit, e: UserDeleted) => emit('identity.user.deleted.v1', UserDeleted.toJSON(e), `user:${e.id}`),
  audienceCreated: (emit: Emit, e: AudienceChanged) =>
    emit('identity.audience.created.v1', AudienceChanged.toJSON(e), `audience:${e.audience!.id}`),
  audienceUpdated: (emit: Emit, e: AudienceChanged) =>
    emit('identity.audience.updated.v1', AudienceChanged.toJSON(e), `audience:${e.audience!.id}`),
  audienceDeleted: (emit: Emit, e: AudienceDeleted) => emit('identity.audience.deleted.v1', AudienceDeleted.toJSON(e), `audience:${e.id}`),
  roleCreated: (emit: Emit, e: RoleChanged) => emit('identity.role.created.v1', RoleChanged.toJSON(e), `role:${e.role!.id}`),
  roleUpdated: (emit: Emit, e: RoleChanged) => emit('identity.role.updated.v1', RoleChanged.toJSON(e), `role:${e.role!.id}`),
  roleDeleted: (emit: Emit, e: RoleDeleted) => emit('identity.role.deleted.v1', RoleDeleted.toJSON(e), `role:${e.id}`),
  roleGranted: (emit: Emit, e: RoleGrantChanged) => emit('identity.role.granted.v1', RoleGrantChanged.toJSON(e), `user:${e.grant!.userId}`),
  roleRevoked: (emit: Emit, e: RoleGrantChanged) => emit('identity.role.revoked.v1', RoleGrantChanged.toJSON(e), `user:${e.grant!.userId}`),
  listCreated: (emit: Emit, e: ListChanged) => emit('identity.list.created.v1', ListChanged.toJSON(e), `list:${e.list!.id}`),
  listUpdated: (emit: Emit, e: ListChanged) => emit('identity.list.updated.v1', ListChanged.toJSON(e), `list:${e.list!.id}`),
  listDeleted: (emit: Emit, e: ListDeleted) => emit('identity.list.deleted.v1', ListDeleted.toJSON(e), `list:${e.id}`),
  listMemberEntered: (emit: Emit, e: ListMembershipChanged) =>
    emit('identity.list-member.entered.v1', ListMembershipChanged.toJSON(e), `user:${e.userId}`),
  listMemberLeft: (emit: Emit, e: ListMembershipChanged) =>
    emit('identity.list-member.left.v1', ListMembershipChanged.toJSON(e), `user:${e.userId}`),
  listFolderCreated: (emit: Emit, e: ListFolderChanged) =>
    emit('identity.list-folder.created.v1', ListFolderChanged.toJSON(e), `list-folder:${e.folder!.id}`),
};
