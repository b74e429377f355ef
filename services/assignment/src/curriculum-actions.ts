import { applyBatch, checkIds } from '@assistants/kit';
import type {
  AssignCurriculaRequest,
  RemoveCurriculumAssignmentsRequest,
  UpdateCurriculumAssignmentsRequest,
} from '@assistants/proto/gen/assignment/v1/assignments';
import type { BatchResult } from '@assistants/proto/gen/batch/v1/batch';
import type { UserForAction } from '@assistants/proto/gen/identity/v1/users';
import {
  changeCurriculumAssignments,
  enrolCurricula,
  removeCurriculumAssignments,
  type CurriculumChangeOutcome,
} from './curriculum-assignments';
import type { Deps } from './deps';
import { checkTemplateId, itemIds, Results, sharesAudience, toLearner, userRefusal, type Refusal } from './items';
import { PERMISSIONS } from './permissions';
import { coursesById, requireCurricula, usersForAction, type CurriculumInfo } from './upstreams';
import { dataChanges, dataToAssign } from './values';

/*
 * The curriculum actions of the user assistant (items: users; targets: curricula): U12,
 * U13, U15.
 */

interface Input {
  userIds: string[];
  curriculumIds: string[];
  curricula: Map<string, CurriculumInfo>;
  users: Map<string, UserForAction>;
}

/** Checks the common parameters and loads what a batch reads: the curricula (refusing an
 * unknown one), their courses, and the users (in one call each). */
async function load(deps: Deps, req: { userIds: string[]; curriculumIds: string[]; notifyTemplateId: string }) {
  const curriculumIds = checkIds('curriculumIds', req.curriculumIds, { required: true });
  const notifyTemplateId = checkTemplateId('notifyTemplateId', req.notifyTemplateId);
  const curricula = await requireCurricula(deps.upstreams.catalog, curriculumIds, 'curriculumIds');
  const courses = await coursesById(deps.upstreams.catalog, [...new Set([...curricula.values()].flatMap((c) => c.courseIds))]);
  const userIds = itemIds(req.userIds);
  return { curriculumIds, notifyTemplateId, curricula, courses, userIds };
}

/** The accepted (user, curriculum) pairs, curriculum by curriculum; the others get their
 * result. */
function accept(input: Input, results: Results, refuse: (user: UserForAction, curriculum: CurriculumInfo) => Refusal | null) {
  const accepted: { user: UserForAction; curriculum: CurriculumInfo }[] = [];
  for (const curriculumId of input.curriculumIds) {
    const curriculum = input.curricula.get(curriculumId)!;
    for (const userId of input.userIds) {
      const user = input.users.get(userId);
      const refusal = userRefusal(user, PERMISSIONS.write) ?? refuse(user!, curriculum);
      if (refusal) results.failed(userId, curriculumId, refusal);
      else accepted.push({ user: user!, curriculum });
    }
  }
  return accepted;
}

/** U12: assigns the curricula, and their courses, to the selected users. */
export async function assignCurricula(deps: Deps, req: AssignCurriculaRequest): Promise<BatchResult> {
  const { batch, ...request } = req;
  const data = dataToAssign(req.values, 'curriculum');
  const { curriculumIds, notifyTemplateId, curricula, courses, userIds } = await load(deps, req);
  const users = await usersForAction(deps.upstreams.identity, userIds, PERMISSIONS.write);
  const carry = { dates: req.carryDatesToCourses, option: req.carryOptionToCourses };
  return applyBatch(deps.outbox, batch, request, async (tx, emit) => {
    const results = new Results(userIds, curriculumIds);
    const accepted = accept({ userIds, curriculumIds, curricula, users }, results, (user, curriculum) => {
      if (curriculum.disabled) return { code: 'CURRICULUM_DISABLED', message: `curriculum ${curriculum.code} is disabled` };
      if (!req.ignoreAudiences && !sharesAudience(user.audienceIds, curriculum.audienceIds)) {
        return { code: 'AUDIENCE_MISMATCH', message: `the user shares none of the audiences of curriculum ${curriculum.code}` };
      }
      return null;
    });
    const outcomes = await enrolCurricula(
      tx,
      emit,
      accepted.map(({ user, curriculum }) => ({
        learner: toLearner(user),
        curriculum,
        data: { startDate: data.startDate, objectiveDate: data.objectiveDate, endDate: data.endDate, option: data.option },
        origin: { kind: 'direct' },
        carry,
        notifyTemplateId,
      })),
      courses,
    );
    outcomes.forEach((outcome, i) => {
      const { user, curriculum } = accepted[i];
      if (outcome === 'assigned') results.succeeded(user.id.toLowerCase(), curriculum.id);
      else results.unchanged(user.id.toLowerCase(), curriculum.id, 'ALREADY_ASSIGNED', 'the curriculum is already assigned to the user');
    });
    return results.list();
  });
}

function reportChange(results: Results, userId: string, curriculumId: string, outcome: CurriculumChangeOutcome): void {
  if (outcome.kind === 'updated') {
    const parts = [...(outcome.changed.length > 0 ? [`changed: ${outcome.changed.join(', ')}`] : [])];
    if (outcome.coursesChanged > 0) parts.push(`${outcome.coursesChanged} course assignment(s) updated`);
    results.succeeded(userId, curriculumId, parts.join('; '));
  } else if (outcome.kind === 'unchanged') {
    results.unchanged(userId, curriculumId, 'NO_CHANGE', 'the assignment already has these values');
  } else if (outcome.kind === 'not-assigned') {
    results.failed(userId, curriculumId, { code: 'NOT_ASSIGNED', message: 'the curriculum is not assigned to the user' });
  } else {
    results.failed(userId, curriculumId, { code: 'INVALID_DATES', message: outcome.message });
  }
}

/** U13: changes the given fields of the selected users' assignments of the curricula, and
 * with carry-over the dates and/or option of their assignments of its courses. */
export async function updateCurriculumAssignments(deps: Deps, req: UpdateCurriculumAssignmentsRequest): Promise<BatchResult> {
  const { batch, ...request } = req;
  const changes = dataChanges(req.values, 'curriculum');
  const { curriculumIds, notifyTemplateId, curricula, courses, userIds } = await load(deps, req);
  const users = await usersForAction(deps.upstreams.identity, userIds, PERMISSIONS.write);
  const carry = { dates: req.carryDatesToCourses, option: req.carryOptionToCourses };
  return applyBatch(deps.outbox, batch, request, async (tx, emit) => {
    const results = new Results(userIds, curriculumIds);
    const accepted = accept({ userIds, curriculumIds, curricula, users }, results, () => null);
    const outcomes = await changeCurriculumAssignments(
      tx,
      emit,
      accepted.map(({ user, curriculum }) => ({ learner: toLearner(user), curriculum, changes, carry, notifyTemplateId })),
      courses,
    );
    outcomes.forEach((outcome, i) => reportChange(results, accepted[i].user.id.toLowerCase(), accepted[i].curriculum.id, outcome));
    return results.list();
  });
}

/** U15: removes the selected users' assignments of the curricula, and with removeCourses
 * the course assignments that came with them only. */
export async function removeCurriculumAssignmentsAction(deps: Deps, req: RemoveCurriculumAssignmentsRequest): Promise<BatchResult> {
  const { batch, ...request } = req;
  const { curriculumIds, notifyTemplateId, curricula, courses, userIds } = await load(deps, req);
  const users = await usersForAction(deps.upstreams.identity, userIds, PERMISSIONS.write);
  return applyBatch(deps.outbox, batch, request, async (tx, emit) => {
    const results = new Results(userIds, curriculumIds);
    const accepted = accept({ userIds, curriculumIds, curricula, users }, results, () => null);
    const outcomes = await removeCurriculumAssignments(
      tx,
      emit,
      accepted.map(({ user, curriculum }) => ({ learner: toLearner(user), curriculum, notifyTemplateId })),
      courses,
      req.removeCourses,
    );
    outcomes.forEach(({ outcome }, i) => {
      const { user, curriculum } = accepted[i];
      if (outcome === 'removed') results.succeeded(user.id.toLowerCase(), curriculum.id);
      else
        results.failed(user.id.toLowerCase(), curriculum.id, {
          code: 'NOT_ASSIGNED',
          message: 'the curriculum is not assigned to the user',
        });
    });
    return results.list();
  });
}
