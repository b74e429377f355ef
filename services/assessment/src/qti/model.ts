import type { Media, QuestionShapes, QuestionType } from '../questions';

/*
 * What a QTI package carries of a test, in the assessment model's terms (questions.ts): the
 * exporter writes it, the reader gives it back.
 */

/** A question with its type's choices and expected answer (see questions.ts). */
export type TypedQuestion = {
  [K in QuestionType]: { type: K; choices: QuestionShapes[K]['choices']; expected: QuestionShapes[K]['expected'] };
}[QuestionType] & { title: string; text: string; media: Media[]; maxScore: number };

export interface QtiTest {
  externalId: string;
  title: string;
  blocks: { title: string; questions: (TypedQuestion & { id: string })[] }[];
}

export const QTI_NS = 'http://www.imsglobal.org/xsd/imsqti_v2p1';
export const QTI_XSD = 'http://www.imsglobal.org/xsd/qti/qtiv2p1/imsqti_v2p1.xsd';
export const CP_NS = 'http://www.imsglobal.org/xsd/imscp_v1p1';
export const CP_XSD = 'http://www.imsglobal.org/xsd/qti/qtiv2p1/qtiv2p1_imscpv1p2_v1p0.xsd';
export const XSI_NS = 'http://www.w3.org/2001/XMLSchema-instance';
export const TEST_FILE = 'assessmentTest.xml';
export const MANIFEST_FILE = 'imsmanifest.xml';

/** The class the exporter puts on each interaction: the question type, so the reader tells a
 * true/false question from a single choice one (QTI has no such notion). */
export const typeClass = (type: QuestionType) => `assistants-${type}`;

/*
 * QTI identifiers are XML names (letters, digits, _ - ., not starting with a digit). A choice
 * id or external id that is one is kept as it is; any other is written "_x" + its UTF-8 bytes
 * in hex, which the reader turns back (an id that itself starts with "_x" is encoded too).
 */
const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

export const toIdentifier = (id: string): string =>
  NAME.test(id) && !id.startsWith('_x') ? id : `_x${Buffer.from(id, 'utf8').toString('hex')}`;

export const fromIdentifier = (identifier: string): string =>
  /^_x([0-9a-f]{2})+$/.test(identifier) ? Buffer.from(identifier.slice(2), 'hex').toString('utf8') : identifier;

/** A matching question's left and right choices may share ids; QTI wants one identifier per
 * choice of the interaction, so each side gets its own prefix. */
export const MATCH_PREFIX = { left: 'L_', right: 'R_' } as const;

/** The blank marker in a fill_in question's text: three underscores or more. */
export const BLANK = /_{3,}/g;
