import { UserFilter, type UserSelection as ProtoUserSelection } from '@assistants/proto/gen/identity/v1/users';
import type { Static } from '@sinclair/typebox';
import type { UserFilter as UserFilterSchema, UserSelection } from './schemas/identity';

/** An HTTP user filter (absent criteria allowed) as the identity contract's UserFilter. */
export function toProtoFilter(filter: Static<typeof UserFilterSchema>): UserFilter {
  return UserFilter.fromPartial(filter);
}

/** An HTTP selection ({type: "ids" | "filter" | "list", ...}) as the identity contract's. */
export function toProtoSelection(selection: Static<typeof UserSelection>): ProtoUserSelection {
  const excludeIds = selection.excludeIds ?? [];
  switch (selection.type) {
    case 'ids':
      return { ids: { ids: selection.ids }, excludeIds };
    case 'filter':
      return { filter: toProtoFilter(selection.filter), excludeIds };
    case 'list':
      return { listId: selection.listId, excludeIds };
  }
}
