import type { BatchHeader, BatchResult } from '@assistants/proto/gen/batch/v1/batch';
import type { Upstreams } from '../upstreams';

/** The two users of a merge, as every step's request names them. */
export interface MergePair {
  fromUserId: string;
  toUserId: string;
}

export interface MergeStep {
  /** Also the last part of the step's idempotency key, "merge:<merge id>:<name>". */
  name: string;
  /** The service that owns the step (what a waiting merge waits for). */
  service: string;
  /** The step's call. Applies once per batch.idempotencyKey; a dry run changes nothing. */
  apply: (upstreams: Upstreams, pair: MergePair, batch: BatchHeader) => Promise<BatchResult>;
}

/**
 * The steps of a user merge, in order. The user to delete goes last, once everything it
 * held has moved. Each step is one batch in its service: atomic (both users never hold a
 * thing at once, nor neither), and applied once per key (a replay after a kill answers what
 * was recorded).
 */
export const MERGE_STEPS: MergeStep[] = [
  {
    // Progress (lesson, course and curriculum records, competency scores): the best result
    // kept (services/statistics/README.md).
    name: 'progress',
    service: 'statistics',
    apply: async (u, pair, batch) => (await u.statistics.progress.mergeUserProgress({ batch, ...pair })).result!,
  },
  {
    name: 'assignments',
    service: 'assignment',
    apply: async (u, pair, batch) => (await u.assignment.assignments.mergeUserAssignments({ batch, ...pair })).result!,
  },
  {
    name: 'memberships',
    service: 'identity',
    apply: async (u, pair, batch) => (await u.identity.userActions.mergeUserMemberships({ batch, ...pair })).result!,
  },
  {
    name: 'delete-user',
    service: 'identity',
    apply: async (u, pair, batch) => (await u.identity.userActions.deleteMergedUser({ batch, ...pair })).result!,
  },
];
