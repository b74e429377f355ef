import { XMLValidator } from 'fast-xml-parser';
import { qtiFiles, qtiPackage } from '../src/qti/export';
import { readQtiPackage } from '../src/qti/import';
import { CP_NS, QTI_NS, type QtiTest } from '../src/qti/model';
import { descendants, elements, firstElement, parseXml, type XmlElement } from '../src/qti/xml';
import { unzipFiles, zipFiles } from '../src/zip';

/**
 * T5's QTI 2.1 package without the stack: its structure (well-formed XML in the QTI and
 * content packaging namespaces, identifiers that are XML names, every manifest file in the
 * zip and every zip file in the manifest, each interaction's response declared) and the
 * round trip (export a test with every question type, read it back: the same blocks,
 * questions, choices, expected answers and max scores).
 */
const TEST: QtiTest = {
  externalId: 'Safety quiz #1',
  title: 'Safety <basics> & "more"',
  blocks: [
    {
      title: 'Choices & co',
      questions: [
        {
          id: 'item-1',
          type: 'single_choice',
          title: 'Capital of France',
          text: 'Which city?\nPick one <only>.',
          media: [
            { type: 'image', url: 'https://example.test/map.png?x=1&y=2' },
            { type: 'audio', url: 'https://example.test/anthem.ogg' },
          ],
          choices: [
            { id: 'a', label: 'Paris' },
            { id: '2nd choice', label: 'Lyon & "Villeurbanne"' },
          ],
          expected: { choiceId: 'a' },
          maxScore: 2,
        },
        {
          id: 'item-2',
          type: 'multiple_choice',
          title: 'Pick the fruits',
          text: '',
          media: [],
          choices: [
            { id: 'apple', label: 'Apple' },
            { id: '_xtricky', label: 'Leek' },
            { id: 'pear', label: 'Pear' },
          ],
          expected: { choiceIds: ['apple', 'pear'] },
          maxScore: 1.5,
        },
        {
          id: 'item-3',
          type: 'true_false',
          title: 'The sky is blue',
          text: '',
          media: [],
          choices: null,
          expected: { value: false },
          maxScore: 1,
        },
      ],
    },
    {
      title: 'Structure',
      questions: [
        {
          id: 'item-4',
          type: 'matching',
          title: 'Match',
          text: 'Countries and capitals',
          media: [{ type: 'video', url: 'https://example.test/tour' }],
          // "fr" on both sides: QTI wants one identifier per choice of the interaction.
          choices: {
            left: [
              { id: 'fr', label: 'France' },
              { id: 'it', label: 'Italy' },
            ],
            right: [
              { id: 'fr', label: 'Paris' },
              { id: 'rome', label: 'Rome' },
            ],
          },
          expected: {
            pairs: [
              { left: 'fr', right: 'fr' },
              { left: 'it', right: 'rome' },
            ],
          },
          maxScore: 3,
        },
        {
          id: 'item-5',
          type: 'ordering',
          title: 'Order the steps',
          text: '',
          media: [{ type: 'document', url: 'https://example.test/steps.pdf' }],
          choices: [
            { id: 's1', label: 'Stop' },
            { id: 's2', label: 'Look' },
            { id: 's3', label: 'Go' },
          ],
          expected: { order: ['s2', 's1', 's3'] },
          maxScore: 2,
        },
        {
          id: 'item-11',
          type: 'multiple_choice',
          title: 'None is right',
          text: '',
          media: [],
          choices: [
            { id: 'x', label: 'X' },
            { id: 'y', label: 'Y' },
          ],
          expected: { choiceIds: [] },
          maxScore: 1,
        },
      ],
    },
    {
      title: 'Open',
      questions: [
        {
          id: 'item-6',
          type: 'fill_in',
          title: 'Fill',
          text: 'The ___ is red,\nthe ___ is yellow.',
          media: [],
          choices: null,
          expected: { blanks: [['apple', 'Apple', 'tomato'], ['banana']] },
          maxScore: 4,
        },
        {
          id: 'item-7',
          type: 'numeric',
          title: 'Pi',
          text: 'Two decimals',
          media: [],
          choices: null,
          expected: { value: 3.14, tolerance: 0.01 },
          maxScore: 1,
        },
        { id: 'item-8', type: 'numeric', title: 'Answer', text: '', media: [], choices: null, expected: { value: 42 }, maxScore: 1 },
        {
          id: 'item-9',
          type: 'free_text',
          title: 'Explain',
          text: 'Why?',
          media: [],
          choices: null,
          expected: { modelAnswer: 'Because <reasons> & more' },
          maxScore: 5,
        },
        { id: 'item-10', type: 'free_text', title: 'Comment', text: '', media: [], choices: null, expected: {}, maxScore: 0 },
      ],
    },
  ],
};

const NCNAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

it('writes well-formed QTI 2.1 documents whose manifest, identifiers and responses hold together', async () => {
  const zip = await qtiPackage(TEST);
  const files = await unzipFiles(zip);
  expect([...files.keys()].sort()).toEqual([...qtiFiles(TEST).keys()].sort());
  const docs = new Map<string, XmlElement>();
  for (const [name, content] of files) {
    expect(XMLValidator.validate(content.toString('utf8'))).toBe(true);
    docs.set(name, parseXml(name, content.toString('utf8')));
  }

  // The manifest: content packaging, every file it names in the zip, every zip file named.
  const manifest = docs.get('imsmanifest.xml')!;
  expect(manifest.name).toBe('manifest');
  expect(manifest.attrs.xmlns).toBe(CP_NS);
  const resources = descendants(manifest, 'resource');
  const named = resources.flatMap((r) => [r.attrs.href, ...elements(r, 'file').map((f) => f.attrs.href)]);
  for (const href of named) expect(files.has(href)).toBe(true);
  expect(new Set([...named, 'imsmanifest.xml'])).toEqual(new Set(files.keys()));
  const ids = new Set(resources.map((r) => r.attrs.identifier));
  for (const d of descendants(manifest, 'dependency')) expect(ids.has(d.attrs.identifierref)).toBe(true);
  const tests = resources.filter((r) => r.attrs.type === 'imsqti_test_xmlv2p1');
  expect(tests).toHaveLength(1);
  const items = resources.filter((r) => r.attrs.type === 'imsqti_item_xmlv2p1');
  expect(items).toHaveLength(11);

  // The test: blocks as sections, in order, each item once.
  const test = docs.get(tests[0].attrs.href)!;
  expect(test.name).toBe('assessmentTest');
  expect(test.attrs.xmlns).toBe(QTI_NS);
  expect(test.attrs.identifier).toMatch(NCNAME);
  const sections = descendants(test, 'assessmentSection');
  expect(sections.map((s) => s.attrs.title)).toEqual(['Choices & co', 'Structure', 'Open']);
  const refs = descendants(test, 'assessmentItemRef');
  expect(refs.map((r) => r.attrs.href)).toEqual(items.map((r) => r.attrs.href));
  expect(firstElement(test, 'outcomeDeclaration')!.attrs).toMatchObject({ identifier: 'SCORE', normalMaximum: '21.5' });

  // Each item: its identifier as the test and manifest name it; every interaction's response
  // declared, every declaration used; choice identifiers XML names, unique; SCORE's maximum.
  const maxima = TEST.blocks.flatMap((b) => b.questions.map((q) => q.maxScore));
  refs.forEach((ref, i) => {
    const item = docs.get(ref.attrs.href)!;
    expect(item.name).toBe('assessmentItem');
    expect(item.attrs.xmlns).toBe(QTI_NS);
    expect(item.attrs.identifier).toMatch(NCNAME);
    expect(item.attrs.identifier).toBe(ref.attrs.identifier);
    expect(item.attrs.identifier).toBe(items[i].attrs.identifier);
    const declared = elements(item, 'responseDeclaration').map((d) => d.attrs.identifier);
    const body = firstElement(item, 'itemBody')!;
    const interactions = ['choiceInteraction', 'matchInteraction', 'orderInteraction', 'textEntryInteraction', 'extendedTextInteraction']
      .flatMap((name) => descendants(body, name))
      .map((x) => x.attrs.responseIdentifier);
    expect(interactions.sort()).toEqual([...declared].sort());
    const choiceIds = [...descendants(body, 'simpleChoice'), ...descendants(body, 'simpleAssociableChoice')].map((c) => c.attrs.identifier);
    for (const id of choiceIds) expect(id).toMatch(NCNAME);
    expect(new Set(choiceIds).size).toBe(choiceIds.length);
    // Correct identifiers are choices of the item.
    for (const d of elements(item, 'responseDeclaration').filter((d) => ['identifier', 'directedPair'].includes(d.attrs.baseType))) {
      for (const v of descendants(d, 'value')) for (const id of (v.children[0] as string).split(' ')) expect(choiceIds).toContain(id);
    }
    const score = elements(item, 'outcomeDeclaration').find((o) => o.attrs.identifier === 'SCORE')!;
    expect(score.attrs.normalMaximum).toBe(maxima[i] > 0 ? String(maxima[i]) : undefined);
  });

  // The type-specific parts the mapping promises.
  const item = (n: number) => docs.get(`items/item-${n}.xml`)!;
  expect(descendants(item(1), 'choiceInteraction')[0].attrs.maxChoices).toBe('1');
  expect(descendants(item(2), 'choiceInteraction')[0].attrs.maxChoices).toBe('0');
  expect(firstElement(item(2), 'responseDeclaration')!.attrs.cardinality).toBe('multiple');
  expect(descendants(item(3), 'simpleChoice').map((c) => c.attrs.identifier)).toEqual(['true', 'false']);
  expect(firstElement(item(4), 'responseDeclaration')!.attrs).toMatchObject({ cardinality: 'multiple', baseType: 'directedPair' });
  expect(firstElement(item(5), 'responseDeclaration')!.attrs).toMatchObject({ cardinality: 'ordered', baseType: 'identifier' });
  expect(descendants(item(6), 'textEntryInteraction')).toHaveLength(2);
  expect(descendants(item(6), 'mapEntry').map((m) => m.attrs.mapKey)).toEqual(['apple', 'Apple', 'tomato', 'banana']);
  expect(firstElement(item(7), 'responseDeclaration')!.attrs.baseType).toBe('float');
  expect(descendants(item(7), 'equal')[0].attrs).toMatchObject({ toleranceMode: 'absolute', tolerance: '0.01 0.01' });
  expect(descendants(item(8), 'equal')[0].attrs).toMatchObject({ toleranceMode: 'exact' });
  expect(descendants(item(9), 'extendedTextInteraction')).toHaveLength(1);
  expect(firstElement(item(9), 'responseProcessing')).toBeUndefined();
});

it('reads its package back: the same blocks, questions, choices, expected answers and max scores', async () => {
  const back = await readQtiPackage(await qtiPackage(TEST));
  expect(back).toEqual(TEST);
});

it('refuses what is not a package it can read, naming the file', async () => {
  await expect(readQtiPackage(Buffer.from('not a zip'))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: /not a zip/ });
  const files = qtiFiles(TEST);
  files.delete('items/item-4.xml');
  await expect(readQtiPackage(await zipFiles(files))).rejects.toThrow('items/item-4.xml: is not in the package');
  files.set('items/item-4.xml', '<assessmentItem><unclosed></assessmentItem>');
  await expect(readQtiPackage(await zipFiles(files))).rejects.toThrow(/items\/item-4.xml: not well-formed XML/);
});
