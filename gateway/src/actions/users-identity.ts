import { Type } from '@sinclair/typebox';
import type { BatchHeader, BatchResult } from '@assistants/proto/gen/batch/v1/batch';
import { DateOrNone, Id, OneOf } from '../schemas/common';
import { defineAction, triState, type ActionDefinition } from './action';

/** The user assistant's actions that identity applies (U1-U5, U18): each batch of selected
 * users goes to identity's UserActionService, which answers one result per user. */

const TriState = OneOf(['unchanged', 'yes', 'no'] as const, '"unchanged" leaves the value as it is');

/** A text field of U1: absent leaves it as it is, "" clears it. */
const TextChange = Type.Optional(Type.String({ maxLength: 255, description: 'absent: unchanged; "": cleared' }));

/** A date of U1: absent leaves it as it is, "" clears it. */
const DateChange = Type.Optional({ ...DateOrNone, description: 'YYYY-MM-DD; absent: unchanged; "": cleared' });

const customFields = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`custom${i + 1}`, TextChange])) as Record<
  `custom${1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10}`,
  typeof TextChange
>;

const TWO_FACTOR = ['unchanged', 'default', 'never', 'first_login_of_day', 'always'] as const;

/** The answer of a UserActionService call, which wraps its BatchResult. */
const resultOf = (response: { result?: BatchResult }): BatchResult => response.result ?? { results: [], replayed: false };

const modifyValues = defineAction({
  id: 'U1',
  assistant: 'users',
  title: 'Modify values',
  params: Type.Object(
    {
      disabled: Type.Optional(TriState),
      activationDate: DateChange,
      expirationDate: DateChange,
      ...customFields,
      twoFactor: Type.Optional(OneOf(TWO_FACTOR, '2FA mode; "unchanged" leaves it as it is')),
    },
    { additionalProperties: false },
  ),
  apply: async ({ identity }, userIds, params, batch) => {
    const { disabled, twoFactor, ...dates } = params;
    return resultOf(
      await identity.userActions.modifyUsers({
        batch,
        userIds,
        ...dates,
        disabled: triState(disabled),
        twoFactor: twoFactor === 'unchanged' ? undefined : twoFactor,
      }),
    );
  },
});

const addAudiences = defineAction({
  id: 'U2',
  assistant: 'users',
  title: 'Add audiences',
  params: Type.Object({ audienceIds: Type.Array(Id, { minItems: 1, maxItems: 100 }) }, { additionalProperties: false }),
  apply: async ({ identity }, userIds, { audienceIds }, batch) =>
    resultOf(await identity.userActions.addUsersAudiences({ batch, userIds, audienceIds })),
});

const addRoles = defineAction({
  id: 'U3',
  assistant: 'users',
  title: 'Add roles',
  params: Type.Object(
    {
      roleIds: Type.Array(Id, { minItems: 1, maxItems: 100 }),
      organisationId: { ...Id, description: 'the scope of every role given: an organisation of your scope' },
    },
    { additionalProperties: false },
  ),
  apply: async ({ identity }, userIds, { roleIds, organisationId }, batch) =>
    resultOf(await identity.userActions.addUsersRoles({ batch, userIds, roleIds, organisationId })),
});

const ManagerParams = Type.Object({ managerId: Id }, { additionalProperties: false });

const setManager = defineAction({
  id: 'U4',
  assistant: 'users',
  title: 'Set manager',
  params: ManagerParams,
  apply: async ({ identity }, userIds, { managerId }, batch) =>
    resultOf(await identity.userActions.setUsersManager({ batch, userIds, managerId })),
});

const setSecondaryManager = defineAction({
  id: 'U5',
  assistant: 'users',
  title: 'Set secondary manager',
  params: ManagerParams,
  apply: async ({ identity }, userIds, { managerId }, batch) =>
    resultOf(await identity.userActions.setUsersSecondaryManager({ batch, userIds, managerId })),
});

/**
 * The key every batch of one run shares, so that identity makes one list of all of them: the
 * run part of the idempotency key. The run engine's keys are "run:<run id>:<batch number>"
 * (action.ts), hence "run:<run id>". A key without a batch part stands for itself; a dry run
 * may have none ("": identity needs no key for a list it rolls back).
 */
export function listKeyOf(batch: BatchHeader): string {
  const key = batch.idempotencyKey;
  const run = /^(.+):[^:]+$/.exec(key);
  return run && run[1].includes(':') ? run[1] : key;
}

const saveAsList = defineAction({
  id: 'U18',
  assistant: 'users',
  title: 'Save selection as list',
  params: Type.Object(
    {
      name: Type.String({ minLength: 1, maxLength: 200 }),
      description: Type.Optional(Type.String({ maxLength: 2000 })),
      folderId: Type.Optional({ ...Id, description: 'default: the Default folder' }),
      ownerOrganisationId: Type.Optional({
        ...Id,
        description: 'default: the organisation of your scope when it has only one (required when it has several)',
      }),
    },
    { additionalProperties: false },
  ),
  apply: async ({ identity }, userIds, params, batch) =>
    resultOf(
      await identity.userActions.saveUsersAsList({
        batch,
        userIds,
        name: params.name,
        description: params.description ?? '',
        folderId: params.folderId ?? '',
        ownerOrganisationId: params.ownerOrganisationId ?? '',
        listKey: listKeyOf(batch),
      }),
    ),
});

/** U1-U5 and U18, for the run engine's registry. */
export const identityUserActions: ActionDefinition[] = [modifyValues, addAudiences, addRoles, setManager, setSecondaryManager, saveAsList];
