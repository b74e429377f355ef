import { invalidArgument } from '@assistants/kit';
import { Liquid, type Template } from 'liquidjs';

/** What a template's dynamic fields are resolved from. */
export type MailContext = 'user' | 'course_assignment' | 'curriculum_assignment' | 'welcome';
export const MAIL_CONTEXTS: MailContext[] = ['user', 'course_assignment', 'curriculum_assignment', 'welcome'];
export const LANGUAGES = ['fr-FR', 'en-EN', 'es-ES'] as const;

const USER_FIELDS = [
  'user.first_name',
  'user.last_name',
  'user.title',
  'user.login',
  'user.email',
  'user.organisation',
  'user.manager',
  'platform_url',
];
const dated = (root: string) => ['name', 'code', 'start_date', 'objective_date', 'end_date', 'option'].map((f) => `${root}.${f}`);
const COURSE_FIELDS = dated('course');
const CURRICULUM_FIELDS = dated('curriculum');

/** The fields each context resolves (the README's table). */
export const FIELDS: Record<MailContext, string[]> = {
  user: USER_FIELDS,
  course_assignment: [...USER_FIELDS, ...COURSE_FIELDS],
  curriculum_assignment: [...USER_FIELDS, ...CURRICULUM_FIELDS],
  welcome: [...USER_FIELDS, 'password'],
};
const KNOWN = new Set(Object.values(FIELDS).flat());

const CONTEXT_WORDS: Record<MailContext, string> = {
  user: 'a user mail',
  course_assignment: 'a course assignment mail',
  curriculum_assignment: 'a curriculum assignment mail',
  welcome: 'a welcome mail',
};

/** The templates of one context may be used where these contexts are (a user template in a
 * course assignment's mail: it only names the user). */
export function usableIn(template: MailContext, use: MailContext): boolean {
  return template === use || template === 'user';
}

// No template reads files (`include`, `render`, `layout` find nothing) and none runs for long.
const limits = { templates: {}, strictFilters: true, parseLimit: 1e6, renderLimit: 2_000, memoryLimit: 1e7 };
/** Subjects and plain-text parts: values as they are. */
const textEngine = new Liquid(limits);
/** HTML parts: every value HTML-escaped (`| raw` is the explicit way out). */
const htmlEngine = new Liquid({ ...limits, outputEscape: 'escape' });

export interface MailParts {
  subject: string;
  html: string;
  text: string;
}

export interface Variant extends MailParts {
  language: string;
}

type Part = keyof MailParts;
const PARTS: Part[] = ['subject', 'html', 'text'];
const engineOf = (part: Part) => (part === 'html' ? htmlEngine : textEngine);

/** Parsed templates by part and source: a fan-out renders the same few sources thousands of
 * times. Cleared when it grows (templates are few; ad-hoc contents come and go). */
const parsed = new Map<string, Template[]>();
const PARSED_MAX = 2_000;

function parseCached(part: Part, source: string): Template[] {
  const key = `${part === 'html' ? 'h' : 't'}:${source}`;
  let found = parsed.get(key);
  if (!found) {
    found = engineOf(part).parse(source);
    if (parsed.size >= PARSED_MAX) parsed.clear();
    parsed.set(key, found);
  }
  return found;
}

/** What checkPart found for a (part, context, source): a fan-out checks the same template for
 * every learner, and the analysis costs more than the rendering. */
const checked = new Map<string, string[] | { problem: string }>();

/** The dynamic fields `source` uses, refusing (INVALID_ARGUMENT on `field`) a syntax error, an
 * unknown field and a field `context` cannot resolve. */
export function checkPart(part: Part, source: string, context: MailContext, field: string): string[] {
  const key = `${part}:${context}:${source}`;
  let found = checked.get(key);
  if (!found) {
    found = analyse(part, source, context);
    if (checked.size >= PARSED_MAX) checked.clear();
    checked.set(key, found);
  }
  if ('problem' in found) throw invalidArgument(field, found.problem);
  return [...found];
}

/** The fields a source uses, or what is wrong with it. */
function analyse(part: Part, source: string, context: MailContext): string[] | { problem: string } {
  let templates: Template[];
  try {
    templates = parseCached(part, source);
  } catch (err) {
    return { problem: `syntax error: ${(err as Error).message}` };
  }
  const { globals } = engineOf(part).analyzeSync(templates, { partials: false });
  const used = new Set<string>();
  for (const variables of Object.values(globals)) {
    for (const variable of variables) {
      const segments = variable.toArray();
      const where = `(line ${variable.location.row})`;
      if (segments.slice(0, 2).some((s) => typeof s !== 'string')) {
        return { problem: `${String(variable)} is not a field: name fields as they are, e.g. user.first_name ${where}` };
      }
      const name = ['user', 'course', 'curriculum'].includes(segments[0] as string)
        ? segments.slice(0, 2).join('.')
        : (segments[0] as string);
      if (!KNOWN.has(name)) {
        return { problem: `unknown field ${name} ${where}; ${CONTEXT_WORDS[context]} may use ${FIELDS[context].join(', ')}` };
      }
      if (!FIELDS[context].includes(name)) {
        return { problem: `${name} cannot be used in ${CONTEXT_WORDS[context]} ${where}` };
      }
      used.add(name);
    }
  }
  return [...used].sort();
}

/** Renders a subject alone (what a list of mails shows), without the password. */
export function renderSubject(source: string, data: MailData): string {
  return render({ subject: source, html: '', text: '' }, data).subject;
}

/** Checks the three parts of a mail for `context`; `prefix` names them (`variants[1]`,
 * `content`). Returns the fields used. */
export function checkParts(parts: MailParts, context: MailContext, prefix: string): string[] {
  const used = new Set<string>();
  for (const part of PARTS) for (const f of checkPart(part, parts[part], context, `${prefix}.${part}`)) used.add(f);
  return [...used].sort();
}

/** The values of a mail's fields, as a template reads them (see FIELDS). */
export interface MailData {
  user: {
    first_name: string;
    last_name: string;
    title: string;
    login: string;
    email: string;
    organisation: string;
    manager: string;
  };
  course?: Record<string, string>;
  curriculum?: Record<string, string>;
  platform_url: string;
}

/** Renders a mail: subject and text as they are, HTML with every value escaped. */
export function render(parts: MailParts, data: MailData & { password?: string }): MailParts {
  const one = (part: Part) => engineOf(part).renderSync(parseCached(part, parts[part]), data as unknown as Record<string, unknown>);
  return {
    subject: one('subject')
      .replace(/\s*[\r\n]+\s*/g, ' ')
      .trim(),
    html: one('html'),
    text: one('text'),
  };
}

/** The variant for a user's language: the same language, or the same language family
 * ("fr" → fr-FR), or the template's default. */
export function pickVariant(variants: Variant[], defaultLanguage: string, language: string): Variant {
  const wanted = language.trim().toLowerCase();
  return (
    variants.find((v) => v.language.toLowerCase() === wanted) ??
    variants.find((v) => wanted && v.language.slice(0, 2).toLowerCase() === wanted.slice(0, 2)) ??
    variants.find((v) => v.language === defaultLanguage) ??
    variants[0]!
  );
}

/** Sample values for a preview; `sample` (by field name) overrides them. */
export function sampleData(platformUrl: string, sample: Record<string, string> = {}): MailData & { password: string } {
  const data = {
    user: {
      first_name: 'Camille',
      last_name: 'Martin',
      title: 'Mme',
      login: 'cmartin',
      email: 'camille.martin@example.com',
      organisation: 'Sales',
      manager: 'Dominique Durand',
    },
    course: {
      name: 'Safety at work',
      code: 'SAFETY-101',
      start_date: '2026-01-05',
      objective_date: '2026-02-01',
      end_date: '2026-03-01',
      option: 'Mandatory',
    } as Record<string, string>,
    curriculum: {
      name: 'New managers',
      code: 'MGR-PATH',
      start_date: '2026-01-05',
      objective_date: '2026-04-01',
      end_date: '2026-06-30',
      option: 'Recommended',
    } as Record<string, string>,
    platform_url: platformUrl,
    password: 'Sample-Passw0rd',
  };
  for (const [name, value] of Object.entries(sample)) {
    const [root, leaf] = name.split('.');
    if (!KNOWN.has(name)) throw invalidArgument(`sample.${name}`, `unknown field ${name}`);
    if (leaf) (data as unknown as Record<string, Record<string, string>>)[root!]![leaf] = value;
    else (data as unknown as Record<string, string>)[root!] = value;
  }
  return data;
}

export interface TemplateInput {
  name: string;
  context: MailContext;
  defaultLanguage: string;
  variants: Variant[];
}

/** Refuses a template that cannot be saved (the field names are those of the HTTP body). */
export function checkTemplate(input: TemplateInput): TemplateInput {
  const name = input.name.trim();
  if (!name) throw invalidArgument('name', 'name is required');
  if (name.length > 200) throw invalidArgument('name', 'name is longer than 200 characters');
  if (!MAIL_CONTEXTS.includes(input.context)) throw invalidArgument('context', `context is one of ${MAIL_CONTEXTS.join(', ')}`);
  if (input.variants.length === 0) throw invalidArgument('variants', 'a template has at least one variant');
  const seen = new Set<string>();
  input.variants.forEach((variant, i) => {
    const at = `variants[${i}]`;
    if (!(LANGUAGES as readonly string[]).includes(variant.language)) {
      throw invalidArgument(`${at}.language`, `language is one of ${LANGUAGES.join(', ')}`);
    }
    if (seen.has(variant.language)) throw invalidArgument(`${at}.language`, `two variants in ${variant.language}`);
    seen.add(variant.language);
    if (!variant.subject.trim()) throw invalidArgument(`${at}.subject`, 'subject is required');
    if (!variant.html.trim() && !variant.text.trim()) throw invalidArgument(`${at}.text`, 'a variant has an HTML or a text part (or both)');
    for (const part of PARTS) {
      if (variant[part].length > 100_000) throw invalidArgument(`${at}.${part}`, `${part} is longer than 100,000 characters`);
    }
    checkParts(variant, input.context, at);
  });
  const defaultLanguage = input.defaultLanguage || input.variants[0]!.language;
  if (!seen.has(defaultLanguage)) throw invalidArgument('defaultLanguage', `no variant in ${defaultLanguage}`);
  return { ...input, name, defaultLanguage };
}
