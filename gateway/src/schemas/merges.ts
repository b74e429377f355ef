import { Type } from '@sinclair/typebox';
import { Id, OneOf } from './common';

export const MERGE_STATUSES = ['pending', 'running', 'succeeded', 'failed'] as const;
export const STEP_STATUSES = ['pending', 'done', 'failed'] as const;
export const MERGE_OUTCOMES = ['succeeded', 'unchanged', 'failed'] as const;

export const NewMerge = Type.Object(
  {
    deleteUserId: Id,
    keepUserId: Id,
    dryRun: Type.Optional(Type.Boolean({ default: false, description: 'answer what would move, changing nothing' })),
  },
  { additionalProperties: false },
);

const MergeItem = Type.Object({
  itemId: Type.String({ description: 'what moved: a course, curriculum or list id ("<course id>/<list id>" for a tutorship)' }),
  targetId: Type.String({
    description: 'what kind of thing: course_assignment, curriculum_assignment, certificate, tutorship; "" for lists',
  }),
  outcome: OneOf(MERGE_OUTCOMES),
  code: Type.String(),
  message: Type.String(),
});

export const MergeStep = Type.Object({
  name: Type.String({ description: 'progress (statistics), assignments, memberships (lists), delete-user' }),
  status: OneOf(STEP_STATUSES),
  message: Type.String(),
  moved: Type.Integer({ description: 'results succeeded: things moved (or, in a dry run, that would move)' }),
  results: Type.Array(MergeItem),
});

export const Merge = Type.Object(
  {
    id: Id,
    deleteUserId: Id,
    keepUserId: Id,
    dryRun: Type.Boolean(),
    status: OneOf(MERGE_STATUSES, 'pending, running, succeeded (every step applied, the user deleted), failed (a step was refused)'),
    succeeded: Type.Union([Type.Boolean(), Type.Null()], { description: 'whether the merge succeeded; null while it goes on' }),
    error: Type.Union([Type.Object({ code: Type.String(), message: Type.String() }), Type.Null()]),
    waitingFor: Type.String({ description: 'why it waits (a service away), "" otherwise' }),
    actorId: Id,
    actorLogin: Type.String(),
    createdAt: Type.String({ format: 'date-time' }),
    startedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    steps: Type.Array(MergeStep),
  },
  { $id: 'Merge' },
);

export const MERGE_SCHEMAS = [Merge];
