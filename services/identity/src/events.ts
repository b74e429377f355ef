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

/** Typed emitters: each event's subject with the payload message that goes with it. */
export const events = {
  organisationCreated: (emit: Emit, e: OrganisationChanged) => emit('identity.organisation.created.v1', OrganisationChanged.toJSON(e)),
  organisationUpdated: (emit: Emit, e: OrganisationChanged) => emit('identity.organisation.updated.v1', OrganisationChanged.toJSON(e)),
  organisationDeleted: (emit: Emit, e: OrganisationDeleted) => emit('identity.organisation.deleted.v1', OrganisationDeleted.toJSON(e)),
  userCreated: (emit: Emit, e: UserChanged) => emit('identity.user.created.v1', UserChanged.toJSON(e)),
  userUpdated: (emit: Emit, e: UserChanged) => emit('identity.user.updated.v1', UserChanged.toJSON(e)),
  userDeleted: (emit: Emit, e: UserDeleted) => emit('identity.user.deleted.v1', UserDeleted.toJSON(e)),
  audienceCreated: (emit: Emit, e: AudienceChanged) => emit('identity.audience.created.v1', AudienceChanged.toJSON(e)),
  audienceUpdated: (emit: Emit, e: AudienceChanged) => emit('identity.audience.updated.v1', AudienceChanged.toJSON(e)),
  audienceDeleted: (emit: Emit, e: AudienceDeleted) => emit('identity.audience.deleted.v1', AudienceDeleted.toJSON(e)),
  roleCreated: (emit: Emit, e: RoleChanged) => emit('identity.role.created.v1', RoleChanged.toJSON(e)),
  roleUpdated: (emit: Emit, e: RoleChanged) => emit('identity.role.updated.v1', RoleChanged.toJSON(e)),
  roleDeleted: (emit: Emit, e: RoleDeleted) => emit('identity.role.deleted.v1', RoleDeleted.toJSON(e)),
  roleGranted: (emit: Emit, e: RoleGrantChanged) => emit('identity.role.granted.v1', RoleGrantChanged.toJSON(e)),
  roleRevoked: (emit: Emit, e: RoleGrantChanged) => emit('identity.role.revoked.v1', RoleGrantChanged.toJSON(e)),
  listCreated: (emit: Emit, e: ListChanged) => emit('identity.list.created.v1', ListChanged.toJSON(e)),
  listUpdated: (emit: Emit, e: ListChanged) => emit('identity.list.updated.v1', ListChanged.toJSON(e)),
  listDeleted: (emit: Emit, e: ListDeleted) => emit('identity.list.deleted.v1', ListDeleted.toJSON(e)),
  listMemberEntered: (emit: Emit, e: ListMembershipChanged) => emit('identity.list-member.entered.v1', ListMembershipChanged.toJSON(e)),
  listMemberLeft: (emit: Emit, e: ListMembershipChanged) => emit('identity.list-member.left.v1', ListMembershipChanged.toJSON(e)),
  listFolderCreated: (emit: Emit, e: ListFolderChanged) => emit('identity.list-folder.created.v1', ListFolderChanged.toJSON(e)),
};
