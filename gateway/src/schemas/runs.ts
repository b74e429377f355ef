import { Type } from '@sinclair/typebox';
import { After, Id, OneOf } from './common';

export const ASSISTANTS = ['users', 'courses', 'curricula'] as const;
export const RUN_STATUSES = ['pending', 'running', 'cancelling', 'cancelled', 'completed'] as const;
export const OUTCOMES = ['succeeded', 'unchanged', 'failed', 'not_done'] as const;

export const NewRun = Type.Object(
  {
    assistant: OneOf(ASSISTANTS, 'the assistant whose action this is'),
    action: Type.String({ minLength: 1, maxLength: 20, description: 'the action id, e.g. "U2" (GET /v1/actions lists them)' }),
    selection: Type.Object(
      {},
      {
        additionalProperties: true,
        description:
          'what the run applies to, resolved once in your scope when the run is created. ' +
          'users: a UserSelection ({type: "ids", ids} | {type: "filter", filter} | {type: "list", listId}, each with optional excludeIds), ' +
          'as POST /v1/selections/users/resolve takes it',
      },
    ),
    params: Type.Optional(
      Type.Object({}, { additionalProperties: true, description: "the action's parameters (their schema: GET /v1/actions)" }),
    ),
    dryRun: Type.Optional(Type.Boolean({ default: false, description: 'answer what each item would become, changing nothing' })),
  },
  { additionalProperties: false },
);

export const Run = Type.Object(
  {
    id: Id,
    assistant: OneOf(ASSISTANTS),
    action: Type.String(),
    title: Type.String({ description: "the action's title" }),
    params: Type.Object({}, { additionalProperties: true, description: 'as validated, defaults filled in' }),
    selection: Type.Object({}, { additionalProperties: true, description: 'as given' }),
    dryRun: Type.Boolean(),
    status: OneOf(RUN_STATUSES, 'pending (no batch sent yet), running, cancelling (the batches being sent finish), cancelled, completed'),
    actorId: Id,
    actorLogin: Type.String({ description: 'who created it: it acts with their rights' }),
    correlationId: Type.String({ description: 'in the logs and events of everything it did' }),
    total: Type.Integer({ description: 'items frozen when the run was created' }),
    done: Type.Integer({ description: 'items the services answered for' }),
    succeeded: Type.Integer({ description: 'results (one per item, and per target when the action has several)' }),
    unchanged: Type.Integer(),
    failed: Type.Integer(),
    notDone: Type.Integer({ description: 'items never sent (the run was cancelled)' }),
    ratePerSecond: Type.Number({ description: 'items done per second since it started' }),
    secondsLeft: Type.Union([Type.Integer(), Type.Null()], { description: 'estimated; null when not known yet' }),
    waitingFor: Type.String({ description: 'why a batch waits to be sent again (a service unavailable…), "" otherwise' }),
    createdAt: Type.String({ format: 'date-time' }),
    startedAt: Type.String({ description: 'RFC 3339, "" before its first batch' }),
    finishedAt: Type.String({ description: 'RFC 3339, "" until it ends' }),
  },
  { $id: 'Run' },
);

export const RunList = Type.Object({
  items: Type.Array(Type.Ref(Run)),
  total: Type.Integer(),
  limit: Type.Integer(),
  nextCursor: Type.String({ description: 'give it as `after` for the next page; "" on the last page' }),
});

export const RunListQuery = Type.Object(
  {
    status: Type.Optional(OneOf(RUN_STATUSES)),
    assistant: Type.Optional(OneOf(ASSISTANTS)),
    actorId: Type.Optional(Type.String({ format: 'uuid', description: "with runs:read-all: one user's runs" })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
    after: After,
  },
  { additionalProperties: false },
);

export const RunResult = Type.Object(
  {
    itemId: Id,
    itemLabel: Type.String({ description: 'the login of a user, the unique id of a course…' }),
    targetId: Type.String({ description: 'what the item was acted on with, when the action has several (a course of U7); "" otherwise' }),
    outcome: OneOf(OUTCOMES),
    code: Type.String({ description: 'a stable reason, e.g. AUDIENCE_MISMATCH; "" on success' }),
    message: Type.String(),
  },
  { $id: 'RunResult' },
);

export const ResultsQuery = Type.Object(
  {
    outcome: Type.Optional(OneOf(OUTCOMES)),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
    after: After,
  },
  { additionalProperties: false },
);

export const CsvQuery = Type.Object({ outcome: Type.Optional(OneOf(OUTCOMES)) }, { additionalProperties: false });

export const ResultPage = Type.Object({
  items: Type.Array(Type.Ref(RunResult)),
  total: Type.Integer({ description: 'results of this outcome (all outcomes when none is given)' }),
  limit: Type.Integer(),
  nextCursor: Type.String({ description: 'give it as `after` for the next page; "" on the last page' }),
});

export const Action = Type.Object(
  {
    id: Type.String({ description: 'e.g. U7' }),
    assistant: OneOf(ASSISTANTS),
    title: Type.String(),
    params: Type.Object({}, { additionalProperties: true, description: "JSON schema of the run's params" }),
  },
  { $id: 'Action' },
);

export const RUN_SCHEMAS = [Run, RunResult, Action];
