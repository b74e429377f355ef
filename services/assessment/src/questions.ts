import { invalidArgument } from '@assistants/kit';

/*
 * The question types and the JSON shape of each one's choices, expected answer and given
 * answer — the one place that says them (the printing, packaging and export features read
 * tests through these types). Stored as jsonb in questions.choices / questions.expected and
 * attempt_answers.given; carried as JSON text in the contracts (choices_json, expected_json,
 * given_json). Ids inside choices are the caller's (short strings unique within a question).
 *
 * | type            | choices                          | expected                               | given                              |
 * |-----------------|----------------------------------|----------------------------------------|------------------------------------|
 * | single_choice   | Choice[] (2+)                    | { choiceId }                           | { choiceId: string \| null }       |
 * | multiple_choice | Choice[] (2+)                    | { choiceIds: string[] }                | { choiceIds: string[] }            |
 * | true_false      | null                             | { value: boolean }                     | { value: boolean \| null }         |
 * | matching        | { left: Choice[], right: Choice[] } | { pairs: { left, right }[] }        | { pairs: { left, right }[] }       |
 * | ordering        | Choice[] (2+)                    | { order: string[] } (every choice id)  | { order: string[] }                |
 * | fill_in         | null (blanks are in the text)    | { blanks: string[][] } (accepted answers per blank) | { blanks: string[] }  |
 * | numeric         | null                             | { value: number, tolerance?: number }  | { value: number \| null }          |
 * | free_text       | null                             | { modelAnswer?: string } (graded by hand) | { text: string }                |
 *
 * Scores are points per question, 0..max_score; the player scores an attempt, an
 * administrator may correct it (T1) but never the answer given.
 */

export const QUESTION_TYPES = [
  'single_choice',
  'multiple_choice',
  'true_false',
  'matching',
  'ordering',
  'fill_in',
  'numeric',
  'free_text',
] as const;
export type QuestionType = (typeof QUESTION_TYPES)[number];

export interface Choice {
  id: string;
  label: string;
}
export interface Pair {
  left: string;
  right: string;
}

export interface MatchingChoices {
  left: Choice[];
  right: Choice[];
}

/** What each type's choices, expected and given answers are (see the table above). */
export interface QuestionShapes {
  single_choice: { choices: Choice[]; expected: { choiceId: string }; given: { choiceId: string | null } };
  multiple_choice: { choices: Choice[]; expected: { choiceIds: string[] }; given: { choiceIds: string[] } };
  true_false: { choices: null; expected: { value: boolean }; given: { value: boolean | null } };
  matching: { choices: MatchingChoices; expected: { pairs: Pair[] }; given: { pairs: Pair[] } };
  ordering: { choices: Choice[]; expected: { order: string[] }; given: { order: string[] } };
  fill_in: { choices: null; expected: { blanks: string[][] }; given: { blanks: string[] } };
  numeric: { choices: null; expected: { value: number; tolerance?: number }; given: { value: number | null } };
  free_text: { choices: null; expected: { modelAnswer?: string }; given: { text: string } };
}

export type Choices = QuestionShapes[QuestionType]['choices'];
export type Expected = QuestionShapes[QuestionType]['expected'];
export type Given = QuestionShapes[QuestionType]['given'];

export const MEDIA_TYPES = ['image', 'audio', 'video', 'document'] as const;
export interface Media {
  type: (typeof MEDIA_TYPES)[number];
  url: string;
}

type Json = unknown;
const isObject = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isString = (v: Json): v is string => typeof v === 'string';
const isStrings = (v: Json): v is string[] => Array.isArray(v) && v.every(isString);

/** Parses a JSON text of the contract; "" is null. */
export function parseJson(field: string, text: string): Json {
  if (text.trim() === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    throw invalidArgument(field, `${field} is not valid JSON`);
  }
}

function checkChoiceList(field: string, value: Json, min = 2): Choice[] {
  if (!Array.isArray(value) || value.length < min)
    throw invalidArgument(field, `${field} must be a list of at least ${min} choices {id, label}`);
  const ids = new Set<string>();
  value.forEach((c, i) => {
    if (!isObject(c) || !isString(c.id) || c.id === '' || !isString(c.label)) {
      throw invalidArgument(`${field}[${i}]`, `${field}[${i}] must be {id, label} with a non-empty id`);
    }
    if (ids.has(c.id)) throw invalidArgument(`${field}[${i}]`, `choice id "${c.id}" is used twice`);
    ids.add(c.id);
  });
  return value as Choice[];
}

function requireNull(field: string, value: Json, type: QuestionType): null {
  if (value !== null) throw invalidArgument(field, `a ${type} question has no choices: leave ${field} empty`);
  return null;
}

function checkKnown(field: string, ids: string[], known: Set<string>): void {
  ids.forEach((id, i) => {
    if (!known.has(id)) throw invalidArgument(`${field}[${i}]`, `"${id}" is not one of the question's choices`);
  });
}

function checkPairs(field: string, value: Json, choices: MatchingChoices | null): Pair[] {
  if (!Array.isArray(value)) throw invalidArgument(field, `${field} must be a list of {left, right}`);
  value.forEach((p, i) => {
    if (!isObject(p) || !isString(p.left) || !isString(p.right))
      throw invalidArgument(`${field}[${i}]`, `${field}[${i}] must be {left, right}`);
    if (choices && !choices.left.some((c) => c.id === p.left))
      throw invalidArgument(`${field}[${i}].left`, `"${p.left}" is not a left choice`);
    if (choices && !choices.right.some((c) => c.id === p.right))
      throw invalidArgument(`${field}[${i}].right`, `"${p.right}" is not a right choice`);
  });
  return value as Pair[];
}

/** A question's choices and expected answer, checked against its type; `field` names the
 * question (e.g. blocks[0].questions[2]). Returns what is stored. */
export function checkQuestionContent(
  field: string,
  type: QuestionType,
  choicesJson: string,
  expectedJson: string,
): { choices: Choices; expected: Expected } {
  const c = `${field}.choicesJson`;
  const e = `${field}.expectedJson`;
  const choices = parseJson(c, choicesJson);
  const expected = parseJson(e, expectedJson);
  if (!isObject(expected) && type !== 'free_text') throw invalidArgument(e, `${e} must be a JSON object (see the ${type} shape)`);
  const x = (expected ?? {}) as Record<string, Json>;
  switch (type) {
    case 'single_choice': {
      const list = checkChoiceList(c, choices);
      if (!isString(x.choiceId)) throw invalidArgument(e, `${e} must be {choiceId}`);
      checkKnown(`${e}.choiceId`, [x.choiceId], new Set(list.map((l) => l.id)));
      return { choices: list, expected: { choiceId: x.choiceId } };
    }
    case 'multiple_choice': {
      const list = checkChoiceList(c, choices);
      if (!isStrings(x.choiceIds)) throw invalidArgument(e, `${e} must be {choiceIds: [...]}`);
      checkKnown(`${e}.choiceIds`, x.choiceIds, new Set(list.map((l) => l.id)));
      return { choices: list, expected: { choiceIds: x.choiceIds } };
    }
    case 'true_false':
      requireNull(c, choices, type);
      if (typeof x.value !== 'boolean') throw invalidArgument(e, `${e} must be {value: true | false}`);
      return { choices: null, expected: { value: x.value } };
    case 'matching': {
      if (!isObject(choices)) throw invalidArgument(c, `${c} must be {left: [...], right: [...]}`);
      const m = { left: checkChoiceList(`${c}.left`, choices.left, 1), right: checkChoiceList(`${c}.right`, choices.right, 1) };
      return { choices: m, expected: { pairs: checkPairs(`${e}.pairs`, x.pairs, m) } };
    }
    case 'ordering': {
      const list = checkChoiceList(c, choices);
      if (!isStrings(x.order)) throw invalidArgument(e, `${e} must be {order: [...]}`);
      const ids = list.map((l) => l.id);
      if (x.order.length !== ids.length || !ids.every((id) => (x.order as string[]).includes(id))) {
        throw invalidArgument(`${e}.order`, `${e}.order must name every choice once`);
      }
      return { choices: list, expected: { order: x.order } };
    }
    case 'fill_in':
      requireNull(c, choices, type);
      if (!Array.isArray(x.blanks) || x.blanks.length === 0 || !x.blanks.every(isStrings)) {
        throw invalidArgument(e, `${e} must be {blanks: [[accepted answers of blank 1], ...]}`);
      }
      return { choices: null, expected: { blanks: x.blanks as string[][] } };
    case 'numeric':
      requireNull(c, choices, type);
      if (typeof x.value !== 'number' || (x.tolerance !== undefined && (typeof x.tolerance !== 'number' || x.tolerance < 0))) {
        throw invalidArgument(e, `${e} must be {value: number, tolerance?: number >= 0}`);
      }
      return { choices: null, expected: x.tolerance === undefined ? { value: x.value } : { value: x.value, tolerance: x.tolerance } };
    case 'free_text':
      requireNull(c, choices, type);
      if (expected !== null && (!isObject(expected) || (expected.modelAnswer !== undefined && !isString(expected.modelAnswer)))) {
        throw invalidArgument(e, `${e} must be empty or {modelAnswer: text}`);
      }
      return { choices: null, expected: isObject(expected) && isString(expected.modelAnswer) ? { modelAnswer: expected.modelAnswer } : {} };
  }
}

/** An answer given to a question of this type (its shape only: the player decides the score). */
export function checkGiven(field: string, type: QuestionType, givenJson: string): Given {
  const given = parseJson(field, givenJson);
  const bad = (shape: string) => invalidArgument(field, `${field} must be ${shape} for a ${type} question`);
  if (!isObject(given)) throw bad('a JSON object');
  switch (type) {
    case 'single_choice':
      if (!(isString(given.choiceId) || given.choiceId === null)) throw bad('{choiceId: id | null}');
      return { choiceId: given.choiceId };
    case 'multiple_choice':
      if (!isStrings(given.choiceIds)) throw bad('{choiceIds: [...]}');
      return { choiceIds: given.choiceIds };
    case 'true_false':
      if (!(typeof given.value === 'boolean' || given.value === null)) throw bad('{value: true | false | null}');
      return { value: given.value };
    case 'matching':
      return { pairs: checkPairs(`${field}.pairs`, given.pairs, null) };
    case 'ordering':
      if (!isStrings(given.order)) throw bad('{order: [...]}');
      return { order: given.order };
    case 'fill_in':
      if (!isStrings(given.blanks)) throw bad('{blanks: [...]}');
      return { blanks: given.blanks };
    case 'numeric':
      if (!(typeof given.value === 'number' || given.value === null)) throw bad('{value: number | null}');
      return { value: given.value };
    case 'free_text':
      if (!isString(given.text)) throw bad('{text: "..."}');
      return { text: given.text };
  }
}

/** JSON text of a stored value for the contract ("" for none). */
export const toJsonText = (value: unknown): string => (value === null || value === undefined ? '' : JSON.stringify(value));
