import type { Test } from '@assistants/proto/gen/assessment/v1/tests';
import type { Choice, Media, QuestionType } from '../questions';
import {
  BLANK,
  CP_NS,
  CP_XSD,
  MANIFEST_FILE,
  MATCH_PREFIX,
  QTI_NS,
  QTI_XSD,
  TEST_FILE,
  toIdentifier,
  typeClass,
  XSI_NS,
  type QtiTest,
  type TypedQuestion,
} from './model';
import { el, toXml, type XmlChild, type XmlElement } from './xml';
import { zipFiles } from '../zip';

/*
 * T5 (Mobiteach export): one test as an IMS QTI 2.1 content package — imsmanifest.xml, one
 * assessmentTest (a testPart, one assessmentSection per block, in order) and one
 * assessmentItem per question (items/<identifier>.xml), zipped. Each item declares RESPONSE
 * (RESPONSE_1.. for the blanks of a fill_in) with its correct response, and SCORE with
 * normalMaximum = the question's max score, and says in responseProcessing how SCORE follows
 * from the response (free_text: none, it is graded by hand):
 *
 * | type            | interaction                                   | SCORE                                   |
 * |-----------------|-----------------------------------------------|-----------------------------------------|
 * | single_choice   | choiceInteraction maxChoices=1, identifier    | max if RESPONSE matches, else 0         |
 * | multiple_choice | choiceInteraction maxChoices=0, multiple      | max if the set matches exactly, else 0  |
 * | true_false      | choiceInteraction maxChoices=1, choices true/false | max if it matches, else 0          |
 * | matching        | matchInteraction, multiple directedPair       | max if the pairs match exactly, else 0  |
 * | ordering        | orderInteraction, ordered identifier          | max if the order matches, else 0        |
 * | fill_in         | textEntryInteraction per blank, string; a mapping of every accepted answer to 1 | max × blanks right / blanks |
 * | numeric         | textEntryInteraction, float                   | max if equal within the tolerance (toleranceMode absolute; exact without one), else 0 |
 * | free_text       | extendedTextInteraction, string               | none (the model answer, if any, is the correctResponse with interpretation "model answer") |
 *
 * Choices keep the author's order (shuffle=false). Media are referenced by their URL, not
 * copied into the package: img for images, object for audio and video, a link for documents.
 * A fill_in question's blanks are the "___" (3+ underscores) of its text, in order; blanks
 * the text does not mark are added at its end.
 */

const SCORE = 'SCORE';
const RESPONSE = 'RESPONSE';
const float = (n: number) => el('baseValue', { baseType: 'float' }, String(n));
const setScore = (value: XmlElement) => el('setOutcomeValue', { identifier: SCORE }, value);

/** SCORE = max when `condition` holds, 0 otherwise. */
const allOrNothing = (condition: XmlElement, max: number) =>
  el(
    'responseProcessing',
    {},
    el('responseCondition', {}, el('responseIf', {}, condition, setScore(float(max))), el('responseElse', {}, setScore(float(0)))),
  );

const matchesCorrect = (max: number) =>
  allOrNothing(el('match', {}, el('variable', { identifier: RESPONSE }), el('correct', { identifier: RESPONSE })), max);

const responseDeclaration = (
  identifier: string,
  cardinality: string,
  baseType: string,
  correct: string[],
  extra?: { interpretation?: string; mapping?: XmlElement },
) =>
  el(
    'responseDeclaration',
    { identifier, cardinality, baseType },
    correct.length > 0
      ? el('correctResponse', { interpretation: extra?.interpretation }, ...correct.map((v) => el('value', {}, v)))
      : undefined,
    extra?.mapping,
  );

const simpleChoices = (choices: Choice[]) => choices.map((c) => el('simpleChoice', { identifier: toIdentifier(c.id) }, c.label));

/** The question's text, a paragraph a line; `inline` fills the blanks of a fill_in. */
function paragraphs(text: string, inline?: (index: number) => XmlElement, blanks = 0): XmlElement[] {
  if (!inline) return text === '' ? [] : text.split('\n').map((line) => el('p', {}, line));
  let index = 0;
  const ps = text.split('\n').map((line) => {
    const parts: XmlChild[] = [];
    line.split(BLANK).forEach((piece, i) => {
      if (i > 0) parts.push(index < blanks ? inline(index++) : '___');
      if (piece !== '') parts.push(piece);
    });
    return el('p', {}, parts);
  });
  // Blanks the text does not mark: at its end, one paragraph.
  if (index < blanks)
    ps.push(
      el(
        'p',
        {},
        Array.from({ length: blanks - index }, () => inline(index++)),
      ),
    );
  return ps;
}

const MIME: Record<string, string> = {
  mp3: 'audio/mpeg',
  ogg: 'audio/ogg',
  wav: 'audio/wav',
  m4a: 'audio/mp4',
  mp4: 'video/mp4',
  webm: 'video/webm',
  mov: 'video/quicktime',
};

/** QTI's object needs a MIME type: from the URL's extension, else the usual one of its kind. */
function mimeOf(media: Media): string {
  const extension = /\.([a-z0-9]+)(?:[?#].*)?$/i.exec(media.url)?.[1]?.toLowerCase() ?? '';
  return MIME[extension]?.startsWith(media.type) ? MIME[extension] : media.type === 'audio' ? 'audio/mpeg' : 'video/mp4';
}

const mediaElement = (media: Media): XmlElement => {
  switch (media.type) {
    case 'image':
      return el('p', {}, el('img', { class: 'image', src: media.url, alt: '' }));
    case 'audio':
    case 'video':
      return el('p', {}, el('object', { class: media.type, data: media.url, type: mimeOf(media) }));
    case 'document':
      return el('p', {}, el('a', { class: 'document', href: media.url }, media.url));
  }
};

/** The parts of an item that depend on the question type. */
function interaction(q: TypedQuestion): { declarations: XmlElement[]; body: XmlElement[]; processing?: XmlElement } {
  const cls = typeClass(q.type);
  const text = paragraphs(q.text);
  switch (q.type) {
    case 'single_choice':
      return {
        declarations: [responseDeclaration(RESPONSE, 'single', 'identifier', [toIdentifier(q.expected.choiceId)])],
        body: [
          ...text,
          el('choiceInteraction', { class: cls, responseIdentifier: RESPONSE, shuffle: false, maxChoices: 1 }, simpleChoices(q.choices)),
        ],
        processing: matchesCorrect(q.maxScore),
      };
    case 'multiple_choice':
      return {
        declarations: [responseDeclaration(RESPONSE, 'multiple', 'identifier', q.expected.choiceIds.map(toIdentifier))],
        body: [
          ...text,
          el('choiceInteraction', { class: cls, responseIdentifier: RESPONSE, shuffle: false, maxChoices: 0 }, simpleChoices(q.choices)),
        ],
        processing: matchesCorrect(q.maxScore),
      };
    case 'true_false':
      return {
        declarations: [responseDeclaration(RESPONSE, 'single', 'identifier', [String(q.expected.value)])],
        body: [
          ...text,
          el(
            'choiceInteraction',
            { class: cls, responseIdentifier: RESPONSE, shuffle: false, maxChoices: 1 },
            simpleChoices([
              { id: 'true', label: 'True' },
              { id: 'false', label: 'False' },
            ]),
          ),
        ],
        processing: matchesCorrect(q.maxScore),
      };
    case 'matching': {
      const left = (id: string) => MATCH_PREFIX.left + toIdentifier(id);
      const right = (id: string) => MATCH_PREFIX.right + toIdentifier(id);
      const set = (choices: Choice[], identifier: (id: string) => string) =>
        el(
          'simpleMatchSet',
          {},
          choices.map((c) => el('simpleAssociableChoice', { identifier: identifier(c.id), matchMax: 0 }, c.label)),
        );
      return {
        declarations: [
          responseDeclaration(
            RESPONSE,
            'multiple',
            'directedPair',
            q.expected.pairs.map((p) => `${left(p.left)} ${right(p.right)}`),
          ),
        ],
        body: [
          ...text,
          el(
            'matchInteraction',
            { class: cls, responseIdentifier: RESPONSE, shuffle: false, maxAssociations: 0 },
            set(q.choices.left, left),
            set(q.choices.right, right),
          ),
        ],
        processing: matchesCorrect(q.maxScore),
      };
    }
    case 'ordering':
      return {
        declarations: [responseDeclaration(RESPONSE, 'ordered', 'identifier', q.expected.order.map(toIdentifier))],
        body: [...text, el('orderInteraction', { class: cls, responseIdentifier: RESPONSE, shuffle: false }, simpleChoices(q.choices))],
        processing: matchesCorrect(q.maxScore),
      };
    case 'fill_in': {
      const blanks = q.expected.blanks;
      const id = (i: number) => `${RESPONSE}_${i + 1}`;
      return {
        declarations: blanks.map((accepted, i) => {
          const unique = [...new Set(accepted)];
          const mapping = el(
            'mapping',
            { defaultValue: 0, upperBound: 1 },
            unique.map((answer) => el('mapEntry', { mapKey: answer, mappedValue: 1, caseSensitive: true })),
          );
          return responseDeclaration(id(i), 'single', 'string', unique.slice(0, 1), { mapping });
        }),
        body: paragraphs(q.text, (i) => el('textEntryInteraction', { class: cls, responseIdentifier: id(i) }), blanks.length),
        // max × (blanks right) / (blanks): each blank's mapping gives 1 for an accepted answer.
        processing: el(
          'responseProcessing',
          {},
          setScore(
            el(
              'divide',
              {},
              el(
                'product',
                {},
                el(
                  'sum',
                  {},
                  blanks.map((_, i) => el('mapResponse', { identifier: id(i) })),
                ),
                float(q.maxScore),
              ),
              float(blanks.length),
            ),
          ),
        ),
      };
    }
    case 'numeric': {
      const { value, tolerance } = q.expected;
      const equal = el(
        'equal',
        tolerance ? { toleranceMode: 'absolute', tolerance: `${tolerance} ${tolerance}` } : { toleranceMode: 'exact' },
        el('variable', { identifier: RESPONSE }),
        el('correct', { identifier: RESPONSE }),
      );
      return {
        declarations: [responseDeclaration(RESPONSE, 'single', 'float', [String(value)])],
        body: [...text, el('div', {}, el('textEntryInteraction', { class: cls, responseIdentifier: RESPONSE }))],
        processing: allOrNothing(equal, q.maxScore),
      };
    }
    case 'free_text': {
      const model = q.expected.modelAnswer;
      return {
        declarations: [
          responseDeclaration(RESPONSE, 'single', 'string', model === undefined ? [] : [model], { interpretation: 'model answer' }),
        ],
        body: [...text, el('extendedTextInteraction', { class: cls, responseIdentifier: RESPONSE })],
      };
    }
  }
}

/** SCORE, with the maximum it can reach (normalMaximum is left out at 0: QTI wants it positive). */
const scoreDeclaration = (max: number) =>
  el(
    'outcomeDeclaration',
    { identifier: SCORE, cardinality: 'single', baseType: 'float', normalMaximum: max > 0 ? max : undefined },
    el('defaultValue', {}, el('value', {}, '0')),
  );

const qtiRoot = (name: string, attrs: Record<string, string | number | boolean>, ...children: XmlElement[]) =>
  el(name, { xmlns: QTI_NS, 'xmlns:xsi': XSI_NS, 'xsi:schemaLocation': `${QTI_NS} ${QTI_XSD}`, ...attrs }, ...children);

export function itemXml(identifier: string, q: TypedQuestion): string {
  const { declarations, body, processing } = interaction(q);
  return toXml(
    qtiRoot(
      'assessmentItem',
      { identifier, title: q.title, adaptive: false, timeDependent: false },
      ...declarations,
      scoreDeclaration(q.maxScore),
      el('itemBody', {}, ...body, ...q.media.map(mediaElement)),
      ...(processing ? [processing] : []),
    ),
  );
}

const itemFile = (identifier: string) => `items/${identifier}.xml`;

function testXml(test: QtiTest): string {
  const max = test.blocks.reduce((sum, b) => sum + b.questions.reduce((s, q) => s + q.maxScore, 0), 0);
  return toXml(
    qtiRoot(
      'assessmentTest',
      { identifier: toIdentifier(test.externalId), title: test.title },
      scoreDeclaration(Math.round(max * 100) / 100),
      el(
        'testPart',
        { identifier: 'part-1', navigationMode: 'linear', submissionMode: 'individual' },
        test.blocks.map((b, i) =>
          el(
            'assessmentSection',
            { identifier: `block-${i + 1}`, title: b.title, visible: true },
            b.questions.map((q) => el('assessmentItemRef', { identifier: q.id, href: itemFile(q.id) })),
          ),
        ),
      ),
      // The test's score: the sum of its items'.
      el('outcomeProcessing', {}, setScore(el('sum', {}, el('testVariables', { variableIdentifier: SCORE, baseType: 'float' })))),
    ),
  );
}

function manifestXml(test: QtiTest): string {
  const items = test.blocks.flatMap((b) => b.questions.map((q) => q.id));
  const resource = (identifier: string, type: string, href: string, ...more: XmlElement[]) =>
    el('resource', { identifier, type, href }, el('file', { href }), ...more);
  return toXml(
    el(
      'manifest',
      {
        xmlns: CP_NS,
        'xmlns:xsi': XSI_NS,
        'xsi:schemaLocation': `${CP_NS} ${CP_XSD}`,
        identifier: `manifest-${toIdentifier(test.externalId)}`,
      },
      el('metadata', {}, el('schema', {}, 'QTIv2.1 Package'), el('schemaversion', {}, '1.0.0')),
      el('organizations'),
      el(
        'resources',
        {},
        resource('test', 'imsqti_test_xmlv2p1', TEST_FILE, ...items.map((id) => el('dependency', { identifierref: id }))),
        ...items.map((id) => resource(id, 'imsqti_item_xmlv2p1', itemFile(id))),
      ),
    ),
  );
}

/** The package's files: name → XML text (the manifest first). */
export function qtiFiles(test: QtiTest): Map<string, string> {
  const files = new Map<string, string>([
    [MANIFEST_FILE, manifestXml(test)],
    [TEST_FILE, testXml(test)],
  ]);
  for (const b of test.blocks) for (const q of b.questions) files.set(itemFile(q.id), itemXml(q.id, q));
  return files;
}

/** The zipped package. */
export const qtiPackage = (test: QtiTest): Promise<Buffer> => zipFiles(qtiFiles(test));

/** A stored test (GetTest's shape) as the exporter takes it; item identifiers are
 * "item-" + the question's id. Its JSON was checked when it was saved. */
export const qtiTestOf = (test: Test): QtiTest => ({
  externalId: test.externalId,
  title: test.title,
  blocks: test.blocks.map((b) => ({
    title: b.title,
    questions: b.questions.map(
      (q) =>
        ({
          id: `item-${q.id}`,
          type: q.type as QuestionType,
          title: q.title,
          text: q.text,
          media: q.media as Media[],
          choices: q.choicesJson === '' ? null : JSON.parse(q.choicesJson),
          expected: q.expectedJson === '' ? {} : JSON.parse(q.expectedJson),
          maxScore: q.maxScore,
        }) as TypedQuestion & { id: string },
    ),
  })),
});
