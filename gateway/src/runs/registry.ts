import { invalidArgument } from '@assistants/kit';
import type { ActionDefinition, AssistantKind } from '../actions/action';
import { checker, type Checker } from '../validation';

export interface RegisteredAction {
  definition: ActionDefinition;
  /** The action's parameters with their defaults, or a 400 naming `params.<field>`. */
  checkParams: Checker<unknown>;
}

/** The actions a gateway runs, by id, their parameter schemas compiled once. */
export class ActionRegistry {
  private readonly byId = new Map<string, RegisteredAction>();

  constructor(actions: ActionDefinition[]) {
    for (const definition of actions) {
      if (this.byId.has(definition.id)) throw new Error(`action ${definition.id} is defined twice`);
      this.byId.set(definition.id, { definition, checkParams: checker(definition.params) as Checker<unknown> });
    }
  }

  ids(): string[] {
    return [...this.byId.keys()];
  }

  list(assistant?: AssistantKind): ActionDefinition[] {
    return [...this.byId.values()].map((a) => a.definition).filter((a) => !assistant || a.assistant === assistant);
  }

  get(id: string): RegisteredAction | undefined {
    return this.byId.get(id);
  }

  /** The action a run request names, which must be one of its assistant's. */
  forRun(assistant: AssistantKind, id: string): RegisteredAction {
    const action = this.byId.get(id);
    if (!action) throw invalidArgument('action', `unknown action "${id}": GET /v1/actions lists them`);
    if (action.definition.assistant !== assistant) {
      throw invalidArgument(
        'action',
        `${id} is an action of the ${action.definition.assistant} assistant, not of the ${assistant} assistant`,
      );
    }
    return action;
  }
}
