import { invalidArgument } from '@assistants/kit';
import type { KindDeclaration } from './engine/columns';

export type KindOptions = Record<string, boolean | string>;

/** The options of a job: those the kind declares, each given ("true"/"false", or one of its
 * values) or at its default. Anything else names the option at fault. */
export function checkOptions(kind: KindDeclaration, given: Record<string, string>): KindOptions {
  const known = new Map(kind.options.map((o) => [o.name, o]));
  for (const name of Object.keys(given)) {
    if (!known.has(name)) {
      throw invalidArgument(
        `options.${name}`,
        `unknown option "${name}" for ${kind.title} imports; options: ${[...known.keys()].join(', ')}`,
      );
    }
  }
  const options: KindOptions = {};
  for (const option of kind.options) {
    const value = given[option.name];
    if (value === undefined) options[option.name] = option.default;
    else if (option.type === 'text') {
      if (value.length > 200) throw invalidArgument(`options.${option.name}`, `options.${option.name} is longer than 200 characters`);
      options[option.name] = value.trim();
    } else if (option.type === 'boolean') {
      if (value !== 'true' && value !== 'false')
        throw invalidArgument(`options.${option.name}`, `options.${option.name} must be true or false`);
      options[option.name] = value === 'true';
    } else {
      if (!option.values!.includes(value)) {
        throw invalidArgument(`options.${option.name}`, `options.${option.name} must be one of ${option.values!.join(', ')}`);
      }
      options[option.name] = value;
    }
  }
  // The welcome mail needs its template (the kinds that have the option).
  if (options.sendWelcomeMail === true && !options.welcomeTemplateId) {
    throw invalidArgument('options.welcomeTemplateId', 'options.welcomeTemplateId is required to send the welcome mail');
  }
  return options;
}
