import PDFDocument from 'pdfkit';
import type { Question } from '@assistants/proto/gen/assessment/v1/common';
import type { Test } from '@assistants/proto/gen/assessment/v1/tests';
import type { Choice, MatchingChoices, QuestionShapes, QuestionType } from './questions';

/*
 * T3's document: tests into one printable PDF, a pure function of the tests and the options
 * (no database, no network: media are printed as references, never fetched). What each level
 * shows is in the README ("T3 printing"):
 *
 * - questions: per test its title, per block its title, per question its number, title, text,
 *   media references and what the learner answers on (choices with boxes, lines to write on);
 *   `hideTitles` leaves out the questions' titles, `hideMedia` their media. With neither it is
 *   the same document as `minimum` (as the seed says).
 * - minimum: the same.
 * - maximum: the minimum plus the test's external id, description, pass mark, maximum score,
 *   question count and lesson; each block's maximum; each question's type, maximum score and
 *   expected answer.
 *
 * Text is set in the PDF standard fonts (Helvetica), whose WinAnsi encoding covers Latin-1
 * and a few more (€, œ, curly quotes, dashes): French reads as written. A character outside
 * it is printed as "?" rather than as a wrong glyph.
 */

export type PrintLevelName = 'questions' | 'minimum' | 'maximum';

export interface PrintOptions {
  level: PrintLevelName;
  /** Only at the questions level. */
  hideTitles?: boolean;
  hideMedia?: boolean;
}

const TYPE_NAMES: Record<QuestionType, string> = {
  single_choice: 'Single choice',
  multiple_choice: 'Multiple choice',
  true_false: 'True or false',
  matching: 'Matching',
  ordering: 'Ordering',
  fill_in: 'Fill in the blanks',
  numeric: 'Numeric answer',
  free_text: 'Free text (graded by hand)',
};

// WinAnsi beyond Latin-1 (what pdfkit maps for the standard fonts).
const WIN_ANSI_EXTRA = new Set('€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ');

/** Text the standard fonts can show: composed accents, tabs as spaces, "?" for the rest. */
export function printable(text: string): string {
  let out = '';
  for (const ch of text.normalize('NFC').replace(/\r\n?/g, '\n').replace(/\t/g, '    ')) {
    const code = ch.codePointAt(0)!;
    const ok = ch === '\n' || (code >= 0x20 && code <= 0x7e) || (code >= 0xa0 && code <= 0xff) || WIN_ANSI_EXTRA.has(ch);
    out += ok ? ch : '?';
  }
  return out;
}

const points = (n: number) => `${Math.round(n * 100) / 100} point${n === 1 ? '' : 's'}`;
const parse = (json: string): unknown => (json === '' ? null : JSON.parse(json));
const letter = (i: number) => (i < 26 ? String.fromCharCode(97 + i) : `${i + 1}`);

/** The expected answer in words (the maximum level's answer key). */
export function expectedAnswer(question: Question): string {
  const type = question.type as QuestionType;
  const choices = parse(question.choicesJson);
  const expected = parse(question.expectedJson);
  const label = (list: Choice[], id: string) => list.find((c) => c.id === id)?.label ?? id;
  switch (type) {
    case 'single_choice':
      return label(choices as Choice[], (expected as QuestionShapes['single_choice']['expected']).choiceId);
    case 'multiple_choice': {
      const ids = (expected as QuestionShapes['multiple_choice']['expected']).choiceIds;
      return ids.length === 0 ? 'none of them' : ids.map((id) => label(choices as Choice[], id)).join('; ');
    }
    case 'true_false':
      return (expected as QuestionShapes['true_false']['expected']).value ? 'True' : 'False';
    case 'matching': {
      const m = choices as MatchingChoices;
      const pairs = (expected as QuestionShapes['matching']['expected']).pairs;
      return pairs.length === 0 ? 'no pair' : pairs.map((p) => `${label(m.left, p.left)} — ${label(m.right, p.right)}`).join('; ');
    }
    case 'ordering':
      return (expected as QuestionShapes['ordering']['expected']).order
        .map((id, i) => `${i + 1}. ${label(choices as Choice[], id)}`)
        .join('  ');
    case 'fill_in':
      return (expected as QuestionShapes['fill_in']['expected']).blanks
        .map((accepted, i) => `blank ${i + 1}: ${accepted.join(' or ')}`)
        .join('; ');
    case 'numeric': {
      const { value, tolerance } = expected as QuestionShapes['numeric']['expected'];
      return tolerance ? `${value} (± ${tolerance})` : `${value}`;
    }
    case 'free_text':
      return (expected as QuestionShapes['free_text']['expected'] | null)?.modelAnswer || 'no model answer (graded by hand)';
    default:
      return question.expectedJson;
  }
}

/** The tests as one PDF, each starting on a new page, in the order given. */
export function renderTestsPdf(tests: Test[], options: PrintOptions): Promise<{ pdf: Buffer; pageCount: number }> {
  const maximum = options.level === 'maximum';
  const hideTitles = options.level === 'questions' && !!options.hideTitles;
  const hideMedia = options.level === 'questions' && !!options.hideMedia;
  const doc = new PDFDocument({
    size: 'A4',
    margins: { top: 56, bottom: 56, left: 56, right: 56 },
    bufferPages: true,
    info: { Title: printable(tests.length === 1 ? tests[0].title : `${tests.length} tests`), Creator: 'Assistants' },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });

  const write = (text: string, font = 'Helvetica', size = 10, extra: PDFKit.Mixins.TextOptions = {}) =>
    doc
      .font(font)
      .fontSize(size)
      .text(printable(text), { ...extra });
  const bottom = () => doc.page.height - doc.page.margins.bottom;
  // A question's heading is not left alone at the foot of a page.
  const keepRoom = (height: number) => {
    if (doc.y + height > bottom()) doc.addPage();
  };
  const line = (label: string, value: string) => {
    doc
      .font('Helvetica-Bold')
      .fontSize(10)
      .text(printable(`${label}: `), { continued: true });
    doc.font('Helvetica').text(printable(value));
  };

  tests.forEach((test, t) => {
    if (t > 0) doc.addPage();
    write(test.title, 'Helvetica-Bold', 16);
    doc.moveDown(0.3);
    if (maximum) {
      const count = test.blocks.reduce((sum, b) => sum + b.questions.length, 0);
      line('External id', test.externalId);
      if (test.description) line('Description', test.description);
      line('Pass mark', test.passingScorePercent === undefined ? 'none (an attempt is completed)' : `${test.passingScorePercent}%`);
      line('Maximum score', points(test.maxScore));
      line('Questions', `${count} in ${test.blocks.length} block${test.blocks.length === 1 ? '' : 's'}`);
      if (test.courseId) line('Played as', `lesson ${test.lessonId} of course ${test.courseId}`);
    }
    let number = 0;
    test.blocks.forEach((block, b) => {
      doc.moveDown(0.8);
      keepRoom(60);
      const blockMax = block.questions.reduce((sum, q) => sum + q.maxScore, 0);
      write(`${b + 1}. ${block.title}${maximum ? ` (${points(blockMax)})` : ''}`, 'Helvetica-Bold', 13);
      for (const question of block.questions) {
        doc.moveDown(0.6);
        keepRoom(50);
        number += 1;
        write(hideTitles ? `Question ${number}` : `Question ${number}. ${question.title}`, 'Helvetica-Bold', 11);
        if (maximum)
          write(`${TYPE_NAMES[question.type as QuestionType] ?? question.type} · ${points(question.maxScore)}`, 'Helvetica-Oblique', 9);
        if (question.text) write(question.text);
        if (!hideMedia) {
          for (const m of question.media) write(`${m.type[0].toUpperCase()}${m.type.slice(1)}: ${m.url}`, 'Helvetica-Oblique', 9);
        }
        answerSpace(question, write);
        if (maximum) {
          doc.moveDown(0.2);
          line('Expected answer', expectedAnswer(question));
        }
      }
    });
  });

  // Page numbers, on every page once everything is laid out.
  const range = doc.bufferedPageRange();
  for (let i = 0; i < range.count; i++) {
    doc.switchToPage(range.start + i);
    const margin = doc.page.margins.bottom;
    doc.page.margins.bottom = 0; // writing in the margin must not open a new page
    doc
      .font('Helvetica')
      .fontSize(8)
      .text(`${i + 1} / ${range.count}`, doc.page.margins.left, doc.page.height - margin / 2, {
        width: doc.page.width - doc.page.margins.left - doc.page.margins.right,
        align: 'center',
        lineBreak: false,
      });
    doc.page.margins.bottom = margin;
  }
  doc.end();
  return done.then((pdf) => ({ pdf, pageCount: range.count }));
}

/** What the learner answers on: boxes before choices, lines to write on. */
function answerSpace(question: Question, write: (text: string, font?: string, size?: number, extra?: PDFKit.Mixins.TextOptions) => void) {
  const choices = parse(question.choicesJson);
  const indent = { indent: 14 };
  switch (question.type as QuestionType) {
    case 'single_choice':
      for (const c of choices as Choice[]) write(`(   ) ${c.label}`, 'Helvetica', 10, indent);
      break;
    case 'multiple_choice':
      for (const c of choices as Choice[]) write(`[   ] ${c.label}`, 'Helvetica', 10, indent);
      break;
    case 'true_false':
      write('(   ) True        (   ) False', 'Helvetica', 10, indent);
      break;
    case 'matching': {
      const m = choices as MatchingChoices;
      write('Write next to each item the letter of its match:', 'Helvetica-Oblique', 9);
      m.left.forEach((c, i) => write(`${i + 1}. ${c.label}  ______`, 'Helvetica', 10, indent));
      m.right.forEach((c, i) => write(`${letter(i)}. ${c.label}`, 'Helvetica', 10, indent));
      break;
    }
    case 'ordering':
      write('Number them in order:', 'Helvetica-Oblique', 9);
      for (const c of choices as Choice[]) write(`____ ${c.label}`, 'Helvetica', 10, indent);
      break;
    case 'numeric':
      write('Answer: ____________________', 'Helvetica', 10, indent);
      break;
    case 'free_text':
      for (let i = 0; i < 3; i++) write('_'.repeat(80), 'Helvetica', 10, indent);
      break;
    case 'fill_in': // the blanks are in the text
      break;
  }
}

/** The downloaded file's name: the test's external id for one test, else the count and day. */
export function printFilename(tests: Pick<Test, 'externalId'>[], now: Date): string {
  if (tests.length === 1) {
    const name = tests[0].externalId
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '') // accents off: an ASCII name every browser keeps
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^-+|-+$/g, '');
    if (name) return `${name}.pdf`;
  }
  return `tests-${tests.length}-${now.toISOString().slice(0, 10)}.pdf`;
}
