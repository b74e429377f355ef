import type { Test } from '@assistants/proto/gen/assessment/v1/tests';
import { pdfTexts } from '@assistants/testing';
import { expectedAnswer, printable, printFilename, renderTestsPdf } from '../src/print';

/**
 * T3's document on its own (no database): the PDF is opened with PDF.js and its text read —
 * what each level shows and does not, French accents kept, several tests in one document.
 */
let n = 0;
const q = (type: string, title: string, choices: unknown, expected: unknown, extra: { text?: string; media?: boolean } = {}) => ({
  id: `q${++n}`,
  type,
  title,
  text: extra.text ?? '',
  media: extra.media ? [{ type: 'image', url: `https://media.example/${title.length}.png` }] : [],
  choicesJson: choices === null ? '' : JSON.stringify(choices),
  expectedJson: JSON.stringify(expected),
  maxScore: 2,
});

const sécurité: Test = {
  id: 't1',
  externalId: 'SÉCU-01',
  title: 'Sécurité électrique',
  description: 'Épreuve de révision après la formation',
  organisationId: 'o',
  courseId: '',
  lessonId: '',
  passingScorePercent: 60,
  maxScore: 16,
  createdAt: '',
  updatedAt: '',
  blocks: [
    {
      id: 'b1',
      title: 'Notions générales',
      questions: [
        q(
          'single_choice',
          'Unité de tension',
          [
            { id: 'v', label: 'Le volt' },
            { id: 'a', label: "L'ampère" },
          ],
          { choiceId: 'v' },
          { text: 'Quelle unité mesure la tension ?', media: true },
        ),
        q(
          'multiple_choice',
          'Équipements de protection',
          [
            { id: 'g', label: 'Gants isolants' },
            { id: 'c', label: 'Casquette' },
            { id: 'l', label: 'Lunettes' },
          ],
          { choiceIds: ['g', 'l'] },
        ),
        q('true_false', 'Courant continu', null, { value: false }, { text: "L'eau pure conduit très bien." }),
        q(
          'matching',
          'Associez',
          { left: [{ id: 'r', label: 'Résistance' }], right: [{ id: 'ohm', label: 'Ohm' }] },
          { pairs: [{ left: 'r', right: 'ohm' }] },
        ),
      ],
    },
    {
      id: 'b2',
      title: 'Pratique',
      questions: [
        q(
          'ordering',
          'Consignation',
          [
            { id: 's', label: 'Séparer' },
            { id: 'v', label: 'Vérifier' },
          ],
          { order: ['s', 'v'] },
        ),
        q('fill_in', 'Complétez', null, { blanks: [['disjoncteur', 'le disjoncteur']] }, { text: 'On coupe au ___ .' }),
        q('numeric', 'Tension secteur', null, { value: 230, tolerance: 10 }),
        q('free_text', 'Expliquez', null, { modelAnswer: 'Parce que le corps humain conduit.' }, { media: true }),
      ],
    },
  ],
};
const second: Test = {
  ...sécurité,
  id: 't2',
  externalId: 'T-2',
  title: 'Deuxième épreuve',
  passingScorePercent: undefined,
  blocks: [{ id: 'b3', title: 'Seul bloc', questions: [q('true_false', 'Ça marche', null, { value: true })] }],
};

const many = Array.from({ length: 60 }, (_, i) => q('numeric', `Calcul n°${i + 1}`, null, { value: i }));
const long: Test = { ...second, blocks: [{ id: 'b', title: 'Beaucoup', questions: many }] };

// Every document of the tests, rendered and then read in one go (PDF.js takes a while to start).
const DOCUMENTS: Record<string, [Test[], Parameters<typeof renderTestsPdf>[1]]> = {
  minimum: [[sécurité], { level: 'minimum' }],
  questions: [[sécurité], { level: 'questions' }],
  noTitles: [[sécurité], { level: 'questions', hideTitles: true }],
  noMedia: [[sécurité], { level: 'questions', hideMedia: true }],
  maximum: [[sécurité], { level: 'maximum' }],
  several: [[second, sécurité], { level: 'maximum' }],
  long: [[long], { level: 'minimum' }],
};
const read: Record<string, { pages: string[]; all: string }> = {};

beforeAll(async () => {
  const names = Object.keys(DOCUMENTS);
  const rendered = await Promise.all(names.map((name) => renderTestsPdf(...DOCUMENTS[name])));
  for (const { pdf } of rendered) expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
  const texts = await pdfTexts(rendered.map((r) => r.pdf));
  names.forEach((name, i) => {
    expect(texts[i].length).toBe(rendered[i].pageCount);
    read[name] = { pages: texts[i], all: texts[i].join('\n') };
  });
}, 60_000);

it('minimum: titles, blocks, questions with their text, media and choices, accents intact; no answer key', () => {
  const { all } = read.minimum;
  for (const shown of [
    'Sécurité électrique',
    '1. Notions générales',
    '2. Pratique',
    'Question 1. Unité de tension',
    'Quelle unité mesure la tension ?',
    'Image: https://media.example/16.png',
    'Le volt',
    "L'ampère",
    'Question 2. Équipements de protection',
    'Gants isolants',
    "L'eau pure conduit très bien.",
    'Résistance',
    'Ohm',
    'Séparer',
    'On coupe au ___ .',
    'Question 8. Expliquez',
  ]) {
    expect(all).toContain(shown);
  }
  for (const hidden of [
    'Expected answer',
    'SÉCU-01',
    'Épreuve de révision',
    'Pass mark',
    'points',
    'Parce que le corps',
    'disjoncteur',
    'Single choice',
  ]) {
    expect(all).not.toContain(hidden);
  }
});

it('questions level: the same as minimum unless titles or media are hidden', async () => {
  expect(read.questions.all).toBe(read.minimum.all);

  const noTitles = read.noTitles.all;
  expect(noTitles).toContain('Question 1');
  expect(noTitles).toContain('Quelle unité mesure la tension ?');
  expect(noTitles).toContain('Le volt');
  expect(noTitles).toContain('https://media.example/16.png');
  for (const title of ['Unité de tension', 'Équipements de protection', 'Expliquez']) expect(noTitles).not.toContain(title);
  expect(noTitles).toContain('Sécurité électrique'); // the test's title stays

  const noMedia = read.noMedia.all;
  expect(noMedia).toContain('Question 1. Unité de tension');
  expect(noMedia).not.toContain('media.example');
  expect(noMedia).not.toContain('Image:');
});

it('maximum: the minimum plus details, maxima and every expected answer in words', () => {
  const { all } = read.maximum;
  for (const shown of [
    'Question 1. Unité de tension',
    'Image: https://media.example/16.png',
    'External id: SÉCU-01',
    'Description: Épreuve de révision après la formation',
    'Pass mark: 60%',
    'Maximum score: 16 points',
    'Questions: 8 in 2 blocks',
    '1. Notions générales (8 points)',
    'Single choice · 2 points',
    'Expected answer: Le volt',
    'Expected answer: Gants isolants; Lunettes',
    'Expected answer: False',
    'Expected answer: Résistance — Ohm',
    'Expected answer: 1. Séparer  2. Vérifier',
    'Expected answer: blank 1: disjoncteur or le disjoncteur',
    'Expected answer: 230 (± 10)',
    'Expected answer: Parce que le corps humain conduit.',
  ]) {
    expect(all.replace(/ +/g, ' ')).toContain(shown.replace(/ +/g, ' '));
  }
});

it('prints several tests in one document, each from a new page, in the order given', async () => {
  const { pages, all } = read.several;
  expect(pages[0]).toContain('Deuxième épreuve');
  expect(pages[0]).toContain('Pass mark: none');
  expect(pages[0]).not.toContain('Sécurité électrique');
  expect(pages[1]).toContain('Sécurité électrique');
  expect(pages[pages.length - 1]).toContain(`${pages.length} / ${pages.length}`);
  expect(all.indexOf('Ça marche')).toBeLessThan(all.indexOf('Unité de tension'));
});

it('keeps long tests on several pages, and replaces what the standard fonts cannot show', async () => {
  const { pages, all } = read.long;
  expect(pages.length).toBeGreaterThan(2);
  expect(all).toContain('Question 60. Calcul n°60');

  expect(printable('Cafe\u0301 ☃ “œuvre” 5 €')).toBe('Café ? “œuvre” 5 €');
  expect(expectedAnswer(q('free_text', 'x', null, {}))).toBe('no model answer (graded by hand)');
  expect(printFilename([{ externalId: 'SÉCU 01/b' }], new Date('2026-03-01T10:00:00Z'))).toBe('SECU-01-b.pdf');
  expect(printFilename([{ externalId: 'a' }, { externalId: 'b' }], new Date('2026-03-01T10:00:00Z'))).toBe('tests-2-2026-03-01.pdf');
});
