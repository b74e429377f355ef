import { Type } from '@sinclair/typebox';
import { After, AmountOrNone, DateOrNone, Id, OneOf, PageBody } from './common';

export const TITLES = ['', 'M.', 'Mme', 'Mlle', 'Dr.', 'Pr.'] as const;
export const LANGUAGES = ['', 'en-EN', 'fr-FR', 'es-ES'] as const;
export const TWO_FACTOR_MODES = ['default', 'never', 'first_login_of_day', 'always'] as const;

const Text = (maxLength: number) => Type.String({ maxLength });
const customFields = Object.fromEntries(
  Array.from({ length: 10 }, (_, i) => [`custom${i + 1}`, Type.String({ maxLength: 255 })]),
) as Record<`custom${1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10}`, ReturnType<typeof Text>>;

const address = {
  addressLine1: Text(255),
  addressLine2: Text(255),
  zip: Text(20),
  city: Text(100),
  country: Text(100),
};

// ---- Organisations -------------------------------------------------------------------

const organisationFields = {
  extId: Type.String({ minLength: 1, maxLength: 100 }),
  label: Type.String({ minLength: 1, maxLength: 255 }),
  parentId: Id,
  disabled: Type.Boolean(),
  description: Text(2000),
  language: OneOf(LANGUAGES),
  ...address,
  code: Text(50),
  budget: AmountOrNone,
  supervisorId: Type.Union([Id, Type.Literal('')], { description: 'a user id, or "" for none' }),
};

export const Organisation = Type.Object(
  {
    id: Id,
    ...organisationFields,
    parentId: Type.String({ description: '"" for the root' }),
    language: Type.String(),
    supervisorId: Type.String(),
    depth: Type.Integer({ description: '0 for the root' }),
    childrenCount: Type.Integer(),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'Organisation' },
);

export const NewOrganisation = Type.Object(
  { ...Type.Partial(Type.Object(organisationFields)).properties, extId: organisationFields.extId, label: organisationFields.label },
  { additionalProperties: false, description: 'an absent parentId means the root' },
);

export const OrganisationPatch = Type.Partial(Type.Object(organisationFields), { additionalProperties: false });

export const OrganisationQuery = Type.Object(
  {
    parentId: Type.Optional(Id),
    query: Type.Optional(Type.String({ maxLength: 200, description: 'contains, on label, external id and code, in the whole scope' })),
    includeDisabled: Type.Optional(Type.Boolean({ default: false })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
    offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000, default: 0 })),
  },
  { additionalProperties: false },
);

// ---- Users -----------------------------------------------------------------------------

const userFields = {
  login: Type.String({ minLength: 1, maxLength: 100, pattern: '^\\S+$' }),
  extId: Text(100),
  lastName: Type.String({ minLength: 1, maxLength: 100 }),
  firstName: Type.String({ minLength: 1, maxLength: 100 }),
  title: OneOf(TITLES),
  email: Type.Union([Type.Literal(''), Type.String({ format: 'email', maxLength: 254 })]),
  language: OneOf(LANGUAGES),
  birthDate: DateOrNone,
  activationDate: DateOrNone,
  expirationDate: DateOrNone,
  disabled: Type.Boolean(),
  organisationId: Id,
  managerId: Type.Union([Id, Type.Literal('')], { description: 'a user id, or "" for none' }),
  secondaryManagerId: Type.Union([Id, Type.Literal('')], { description: 'a user id, or "" for none' }),
  ...address,
  phone: Text(40),
  cellphone: Text(40),
  hourlyCost: AmountOrNone,
  ...customFields,
  jobPosition: Text(100),
  twoFactor: OneOf(TWO_FACTOR_MODES),
  externallyManaged: Type.Boolean({ description: 'locked against manual edits; imports keep it up to date' }),
  mustChangePassword: Type.Boolean(),
};

const AudienceRef = Type.Object({ id: Id, name: Type.String() });

export const User = Type.Object(
  {
    id: Id,
    ...userFields,
    title: Type.String(),
    language: Type.String(),
    twoFactor: Type.String(),
    email: Type.String(),
    managerId: Type.String(),
    secondaryManagerId: Type.String(),
    lastLoginAt: Type.String({ description: 'RFC 3339, "" when never' }),
    hasPassword: Type.Boolean(),
    audiences: Type.Array(AudienceRef),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'User' },
);

export const NewUser = Type.Object(
  {
    ...Type.Partial(Type.Object(userFields)).properties,
    login: userFields.login,
    lastName: userFields.lastName,
    firstName: userFields.firstName,
    organisationId: userFields.organisationId,
    password: Type.Optional(Type.String({ minLength: 8, maxLength: 256, description: 'without one, the user cannot log in' })),
    audienceIds: Type.Optional(Type.Array(Id, { maxItems: 500 })),
  },
  { additionalProperties: false },
);

export const UserPatch = Type.Partial(Type.Object(userFields), { additionalProperties: false });

export const NewPassword = Type.Object(
  { password: Type.String({ minLength: 8, maxLength: 256 }), mustChangePassword: Type.Optional(Type.Boolean({ default: false })) },
  { additionalProperties: false },
);

export const UserSummary = Type.Object(
  {
    id: Id,
    login: Type.String(),
    extId: Type.String(),
    lastName: Type.String(),
    firstName: Type.String(),
    email: Type.String(),
    disabled: Type.Boolean(),
    organisationId: Id,
    organisationLabel: Type.String(),
  },
  { $id: 'UserSummary' },
);

const criterion = (description: string) => Type.Optional(Type.String({ maxLength: 200, description }));
const FILTER_TEXT = ['lastName', 'firstName', 'login', 'email', 'extId', 'audience', ...Object.keys(customFields)];

export const UserFilter = Type.Object(
  {
    lastName: criterion('contains, case-insensitive'),
    firstName: criterion('contains, case-insensitive'),
    login: criterion('contains, case-insensitive'),
    email: criterion('contains, case-insensitive'),
    extId: criterion('contains, case-insensitive'),
    audience: criterion('has an audience whose name contains this'),
    ...Object.fromEntries(Object.keys(customFields).map((k) => [k, criterion('contains, case-insensitive')])),
    match: Type.Optional(OneOf(['all', 'any'] as const, 'criteria combine with ALL (default) or ANY')),
    includeDisabled: Type.Optional(Type.Boolean({ description: 'include disabled users (default false)' })),
    organisationId: Type.Optional(Type.Union([Id, Type.Literal('')], { description: 'only users of this organisation' })),
    includeSubOrganisations: Type.Optional(Type.Boolean({ description: 'and of its whole sub-tree' })),
  },
  { $id: 'UserFilter', additionalProperties: false, description: 'SEL-1' },
);

/** A filter as stored in a dynamic list: every field present. */
export const SavedUserFilter = Type.Object(
  {
    ...Object.fromEntries(FILTER_TEXT.map((k) => [k, Type.String()])),
    match: Type.String(),
    includeDisabled: Type.Boolean(),
    organisationId: Type.String(),
    includeSubOrganisations: Type.Boolean(),
  },
  { $id: 'SavedUserFilter' },
);

export const UserSearch = Type.Object({ filter: Type.Ref(UserFilter), ...PageBody, after: After }, { additionalProperties: false });

const excludeIds = Type.Optional(Type.Array(Id, { maxItems: 100_000, description: 'removed at the recap (SEL-3)' }));

export const UserSelection = Type.Union(
  [
    Type.Object({ type: Type.Literal('ids'), ids: Type.Array(Id, { maxItems: 100_000 }), excludeIds }, { additionalProperties: false }),
    Type.Object({ type: Type.Literal('filter'), filter: Type.Ref(UserFilter), excludeIds }, { additionalProperties: false }),
    Type.Object({ type: Type.Literal('list'), listId: Id, excludeIds }, { additionalProperties: false }),
  ],
  {
    $id: 'UserSelection',
    description: "what a run applies to: these ids, everything a filter matches, or a list's members; minus excludeIds",
  },
);

export const SelectionResolve = Type.Object(
  { selection: Type.Ref(UserSelection), ...PageBody, after: After },
  { additionalProperties: false },
);

export const AudienceIds = Type.Object({ audienceIds: Type.Array(Id, { minItems: 1, maxItems: 500 }) }, { additionalProperties: false });

// ---- Audiences -------------------------------------------------------------------------

export const Audience = Type.Object(
  { id: Id, name: Type.String(), description: Type.String(), createdAt: Type.String({ format: 'date-time' }) },
  { $id: 'Audience' },
);

export const NewAudience = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 100 }), description: Type.Optional(Text(2000)) },
  { additionalProperties: false },
);

export const AudiencePatch = Type.Partial(NewAudience, { additionalProperties: false });

export const NameQuery = Type.Object(
  {
    query: Type.Optional(Type.String({ maxLength: 200 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
    offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000, default: 0 })),
  },
  { additionalProperties: false },
);

// ---- Roles -----------------------------------------------------------------------------

export const Role = Type.Object(
  { id: Id, name: Type.String(), description: Type.String(), permissions: Type.Array(Type.String()), builtIn: Type.Boolean() },
  { $id: 'Role' },
);

export const NewRole = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    description: Type.Optional(Text(2000)),
    permissions: Type.Array(Type.String(), { maxItems: 100, description: 'see GET /v1/permissions; "*" is every one' }),
  },
  { additionalProperties: false },
);

export const RolePatch = Type.Partial(NewRole, { additionalProperties: false });

export const RoleGrant = Type.Object(
  { userId: Id, roleId: Id, roleName: Type.String(), organisationId: Id, permissions: Type.Array(Type.String()) },
  { $id: 'RoleGrant' },
);

export const NewRoleGrant = Type.Object(
  { roleIds: Type.Array(Id, { minItems: 1, maxItems: 50 }), organisationId: Id },
  { additionalProperties: false, description: 'U3: roles and the one organisation whose sub-tree they apply to' },
);

export const Principal = Type.Object(
  {
    userId: Id,
    login: Type.String(),
    grants: Type.Array(Type.Ref(RoleGrant)),
    mustChangePassword: Type.Boolean({ description: 'until changed (PUT /v1/me/password), every other route answers 409' }),
  },
  { $id: 'Principal' },
);

// ---- Lists -----------------------------------------------------------------------------

export const ListFolder = Type.Object({ id: Id, name: Type.String(), parentId: Type.String() }, { $id: 'ListFolder' });

export const NewListFolder = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 200 }), parentId: Type.Optional(Id) },
  { additionalProperties: false },
);

export const UserList = Type.Object(
  {
    id: Id,
    name: Type.String(),
    description: Type.String(),
    type: Type.String({ description: 'static or dynamic' }),
    disabled: Type.Boolean(),
    folderId: Id,
    criteria: Type.Optional(Type.Ref(SavedUserFilter)),
    memberCount: Type.Integer({ description: 'members within your scope' }),
    ownerOrganisationId: Type.String({ description: 'the organisation the list belongs to; its members are users of its sub-tree' }),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'UserList' },
);

export const NewList = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    description: Type.Optional(Text(2000)),
    type: OneOf(['static', 'dynamic'] as const),
    folderId: Type.Optional(Id),
    criteria: Type.Optional(Type.Ref(UserFilter, { description: 'dynamic lists: the saved SEL-1 filter' })),
    memberIds: Type.Optional(Type.Array(Id, { maxItems: 100_000, description: 'static lists: initial members' })),
    ownerOrganisationId: Type.Optional(
      Type.Union([Id, Type.Literal('')], {
        description: 'default: the one organisation of your scope (the root for an administrator of everything)',
      }),
    ),
  },
  { additionalProperties: false },
);

export const ListPatch = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    description: Type.Optional(Text(2000)),
    disabled: Type.Optional(Type.Boolean()),
    folderId: Type.Optional(Id),
    criteria: Type.Optional(Type.Ref(UserFilter)),
    ownerOrganisationId: Type.Optional(Id),
  },
  { additionalProperties: false },
);

export const ListSearch = Type.Object(
  {
    filter: Type.Object(
      {
        name: Type.Optional(Type.String({ maxLength: 200 })),
        description: Type.Optional(Type.String({ maxLength: 200 })),
        type: Type.Optional(OneOf(['', 'static', 'dynamic'] as const)),
        match: Type.Optional(OneOf(['all', 'any'] as const)),
        includeDisabled: Type.Optional(Type.Boolean()),
        folderId: Type.Optional(Id),
      },
      { additionalProperties: false, description: 'SEL-2' },
    ),
    ...PageBody,
  },
  { additionalProperties: false },
);

export const MemberIds = Type.Object({ userIds: Type.Array(Id, { minItems: 1, maxItems: 100_000 }) }, { additionalProperties: false });

/** Shared schemas, registered once so that OpenAPI lists them as components. */
export const SHARED_SCHEMAS = [
  Organisation,
  User,
  UserSummary,
  UserFilter,
  SavedUserFilter,
  UserSelection,
  Audience,
  Role,
  RoleGrant,
  ListFolder,
  UserList,
  Principal,
];
