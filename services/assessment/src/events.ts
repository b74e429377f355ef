import type { Emit } from '@assistants/kit';
import { AttemptChanged } from '@assistants/proto/gen/assessment/v1/events';

/** The assessment service's stream and the subjects it publishes (see events.proto). */
export const STREAM = 'ASSESSMENT';
export const STREAM_SUBJECTS = ['assessment.>'];

export type AttemptVerb = 'recorded' | 'scores-edited' | 'deleted';

/** Keyed by the learner: whoever follows a learner's lessons sees them in order. */
export const attemptChanged = (emit: Emit, verb: AttemptVerb, e: AttemptChanged) =>
  emit(`assessment.attempt.${verb}.v1`, AttemptChanged.toJSON(e), `user:${e.attempt!.userId}`);
