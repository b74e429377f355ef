import { invalidArgument } from '@assistants/kit';
import { QUESTION_TYPES, type Choice, type Media, type QuestionType } from '../questions';
import { fromIdentifier, MANIFEST_FILE, MATCH_PREFIX, QTI_NS, typeClass, type QtiTest, type TypedQuestion } from './model';
import { descendants, elements, firstElement, parseXml, textOf, type XmlElement } from './xml';
import { unzipFiles } from '../zip';

/*
 * The reader of the packages export.ts writes: a QTI 2.1 content package back into the
 * assessment model (blocks, questions with their type's choices and expected answer, max
 * scores). It follows the manifest to the assessmentTest, the test's sections to the items.
 * A question's type is the "assistants-<type>" class of its interaction; without it (a package
 * from elsewhere) it is read from the interaction (a choice interaction of two choices true
 * and false is true_false). Anything it cannot read is INVALID_ARGUMENT naming the file.
 */

const fail = (file: string, message: string) => invalidArgument('package', `${file}: ${message}`);

const attr = (file: string, node: XmlElement, name: string): string => {
  const value = node.attrs[name];
  if (value === undefined) throw fail(file, `<${node.name}> has no ${name}`);
  return value;
};

/** Resolves `href` against the folder of `from` (both paths inside the zip). */
function resolve(from: string, href: string): string {
  const parts = from.split('/').slice(0, -1);
  for (const part of decodeURI(href).split('/')) {
    if (part === '..') parts.pop();
    else if (part !== '.' && part !== '') parts.push(part);
  }
  return parts.join('/');
}

function qtiDocument(files: Map<string, Buffer>, file: string, rootName: string): XmlElement {
  const content = files.get(file);
  if (!content) throw fail(file, 'is not in the package');
  let root: XmlElement;
  try {
    root = parseXml(file, content.toString('utf8'));
  } catch (err) {
    throw invalidArgument('package', (err as Error).message);
  }
  if (root.name !== rootName) throw fail(file, `<${rootName}> expected, found <${root.name}>`);
  if (root.attrs.xmlns !== QTI_NS) throw fail(file, `not in the QTI 2.1 namespace ${QTI_NS}`);
  return root;
}

const choicesOf = (file: string, node: XmlElement, name: string, strip = ''): Choice[] =>
  elements(node, name).map((c) => ({ id: fromIdentifier(attr(file, c, 'identifier').slice(strip.length)), label: textOf(c).trim() }));

const correctValues = (declaration: XmlElement | undefined): string[] => {
  const correct = declaration && firstElement(declaration, 'correctResponse');
  return correct ? elements(correct, 'value').map((v) => textOf(v).trim()) : [];
};

const INTERACTIONS = ['choiceInteraction', 'matchInteraction', 'orderInteraction', 'textEntryInteraction', 'extendedTextInteraction'];

function typeOf(file: string, interaction: XmlElement, declaration: XmlElement | undefined): QuestionType {
  const marked = QUESTION_TYPES.find((t) => (interaction.attrs.class ?? '').split(/\s+/).includes(typeClass(t)));
  if (marked) return marked;
  switch (interaction.name) {
    case 'choiceInteraction': {
      const ids = elements(interaction, 'simpleChoice').map((c) => c.attrs.identifier);
      if (ids.length === 2 && ids.includes('true') && ids.includes('false')) return 'true_false';
      return declaration?.attrs.cardinality === 'multiple' ? 'multiple_choice' : 'single_choice';
    }
    case 'matchInteraction':
      return 'matching';
    case 'orderInteraction':
      return 'ordering';
    case 'textEntryInteraction':
      return declaration?.attrs.baseType === 'float' || declaration?.attrs.baseType === 'integer' ? 'numeric' : 'fill_in';
    case 'extendedTextInteraction':
      return 'free_text';
  }
  throw fail(file, `no interaction this reader knows (${INTERACTIONS.join(', ')})`);
}

/** The text of the item body: its paragraphs (interactions and media are outside them), a line each; a text entry
 * inside it (a fill_in blank) is "___". */
function bodyText(body: XmlElement): string {
  const lines: string[] = [];
  for (const child of elements(body)) {
    if (child.name !== 'p' || elements(child).some((e) => ['img', 'object', 'a'].includes(e.name) && e.attrs.class)) continue;
    lines.push(child.children.map((c) => (typeof c === 'string' ? c : c.name === 'textEntryInteraction' ? '___' : textOf(c))).join(''));
  }
  return lines.join('\n');
}

/** The media the exporter put in the body (class image, audio, video or document), in order. */
function mediaOf(node: XmlElement, media: Media[] = []): Media[] {
  for (const child of elements(node)) {
    const type = child.attrs.class as Media['type'] | undefined;
    const url = child.attrs.src ?? child.attrs.data ?? child.attrs.href;
    if (['img', 'object', 'a'].includes(child.name) && type && url && ['image', 'audio', 'video', 'document'].includes(type)) {
      media.push({ type, url });
    } else mediaOf(child, media);
  }
  return media;
}

/** One item: its question (type, title, text, media, choices, expected answer, max score). */
export function readItem(file: string, root: XmlElement): TypedQuestion {
  const declarations = new Map(elements(root, 'responseDeclaration').map((d) => [attr(file, d, 'identifier'), d]));
  const body = firstElement(root, 'itemBody');
  if (!body) throw fail(file, 'no <itemBody>');
  const interactions = INTERACTIONS.flatMap((name) => descendants(body, name));
  if (interactions.length === 0) throw fail(file, 'no interaction');
  for (const i of interactions) {
    if (!declarations.has(attr(file, i, 'responseIdentifier')))
      throw fail(file, `no responseDeclaration for the interaction's responseIdentifier "${i.attrs.responseIdentifier}"`);
  }
  const interaction = interactions[0];
  const declaration = declarations.get(interaction.attrs.responseIdentifier);
  const score = elements(root, 'outcomeDeclaration').find((o) => o.attrs.identifier === 'SCORE');
  const common = {
    title: attr(file, root, 'title'),
    text: bodyText(body),
    media: mediaOf(body),
    maxScore: Number(score?.attrs.normalMaximum ?? 0),
  };
  const correct = correctValues(declaration);
  const type = typeOf(file, interaction, declaration);
  // An empty set of choices or pairs may be right; one choice always is.
  if (correct.length === 0 && (type === 'single_choice' || type === 'true_false'))
    throw fail(file, `no correctResponse for ${interaction.attrs.responseIdentifier}`);
  switch (type) {
    case 'single_choice':
      return {
        ...common,
        type,
        choices: choicesOf(file, interaction, 'simpleChoice'),
        expected: { choiceId: fromIdentifier(correct[0] ?? '') },
      };
    case 'multiple_choice':
      return {
        ...common,
        type,
        choices: choicesOf(file, interaction, 'simpleChoice'),
        expected: { choiceIds: correct.map(fromIdentifier) },
      };
    case 'true_false':
      return { ...common, type, choices: null, expected: { value: correct[0] === 'true' } };
    case 'matching': {
      const [left, right] = elements(interaction, 'simpleMatchSet');
      if (!left || !right) throw fail(file, 'a matchInteraction needs two simpleMatchSet');
      // The exporter's side prefixes, when every choice of the side has it.
      const prefix = (set: XmlElement, p: string) =>
        elements(set, 'simpleAssociableChoice').every((c) => c.attrs.identifier.startsWith(p)) ? p : '';
      const [lp, rp] = [prefix(left, MATCH_PREFIX.left), prefix(right, MATCH_PREFIX.right)];
      const id = (identifier: string, p: string) => fromIdentifier(identifier.startsWith(p) ? identifier.slice(p.length) : identifier);
      return {
        ...common,
        type,
        choices: { left: choicesOf(file, left, 'simpleAssociableChoice', lp), right: choicesOf(file, right, 'simpleAssociableChoice', rp) },
        expected: {
          pairs: correct.map((pair) => {
            const [l, r] = pair.split(/\s+/);
            return { left: id(l, lp), right: id(r ?? '', rp) };
          }),
        },
      };
    }
    case 'ordering':
      return { ...common, type, choices: choicesOf(file, interaction, 'simpleChoice'), expected: { order: correct.map(fromIdentifier) } };
    case 'fill_in': {
      // Each blank's accepted answers: its correct response, then its mapping's other keys.
      const blanks = interactions.map((i) => {
        const d = declarations.get(i.attrs.responseIdentifier)!;
        const mapping = firstElement(d, 'mapping');
        const keys = mapping ? elements(mapping, 'mapEntry').map((m) => m.attrs.mapKey) : [];
        return [...new Set([...correctValues(d), ...keys])];
      });
      return { ...common, type, choices: null, expected: { blanks } };
    }
    case 'numeric': {
      const value = Number(correct[0]);
      if (!Number.isFinite(value)) throw fail(file, 'the numeric correctResponse is not a number');
      const equal = descendants(root, 'equal')[0];
      const tolerance = equal?.attrs.toleranceMode === 'absolute' ? Number((equal.attrs.tolerance ?? '0').split(/\s+/)[0]) : undefined;
      return { ...common, type, choices: null, expected: tolerance === undefined ? { value } : { value, tolerance } };
    }
    case 'free_text':
      return { ...common, type, choices: null, expected: correct.length > 0 ? { modelAnswer: correct[0] } : {} };
  }
}

/** A zipped QTI 2.1 package back as a test: its external id (the assessmentTest identifier),
 * title, and blocks (the sections) with their questions. */
export async function readQtiPackage(zip: Buffer): Promise<QtiTest> {
  let files: Map<string, Buffer>;
  try {
    files = await unzipFiles(zip);
  } catch (err) {
    throw invalidArgument('package', (err as Error).message);
  }
  const manifestText = files.get(MANIFEST_FILE);
  if (!manifestText) throw fail(MANIFEST_FILE, 'is not in the package');
  let manifest: XmlElement;
  try {
    manifest = parseXml(MANIFEST_FILE, manifestText.toString('utf8'));
  } catch (err) {
    throw invalidArgument('package', (err as Error).message);
  }
  const testResource = descendants(manifest, 'resource').find((r) => r.attrs.type === 'imsqti_test_xmlv2p1');
  if (!testResource) throw fail(MANIFEST_FILE, 'no resource of type imsqti_test_xmlv2p1');
  const testFile = resolve(MANIFEST_FILE, attr(MANIFEST_FILE, testResource, 'href'));
  const test = qtiDocument(files, testFile, 'assessmentTest');
  return {
    externalId: fromIdentifier(attr(testFile, test, 'identifier')),
    title: attr(testFile, test, 'title'),
    blocks: descendants(test, 'assessmentSection')
      .filter((s) => elements(s, 'assessmentItemRef').length > 0 || elements(s, 'assessmentSection').length === 0)
      .map((section) => ({
        title: attr(testFile, section, 'title'),
        questions: elements(section, 'assessmentItemRef').map((ref) => {
          const file = resolve(testFile, attr(testFile, ref, 'href'));
          const root = qtiDocument(files, file, 'assessmentItem');
          return { id: attr(file, root, 'identifier'), ...readItem(file, root) };
        }),
      })),
  };
}
