import { checkId, invalidArgument, notFound } from '@assistants/kit';
import { PrintLevel, type PrintTestsRequest, type PrintTestsResponse } from '@assistants/proto/gen/assessment/v1/print';
import { Caller } from './caller';
import type { Deps } from './deps';
import { PERMISSIONS } from './permissions';
import { printFilename, renderTestsPdf, type PrintLevelName } from './print';
import { toTest, type TestRow } from './tests';

/** At most this many tests in one document. */
export const MAX_PRINTED_TESTS = 100;
/** The gRPC clients' default receive limit (4 MiB) less room for the rest of the message: a
 * larger document is refused rather than failing in transit. */
export const MAX_PDF_BYTES = 4 * 1024 * 1024 - 64 * 1024;

const LEVELS: Partial<Record<PrintLevel, PrintLevelName>> = {
  [PrintLevel.PRINT_LEVEL_QUESTIONS]: 'questions',
  [PrintLevel.PRINT_LEVEL_MINIMUM]: 'minimum',
  [PrintLevel.PRINT_LEVEL_MAXIMUM]: 'maximum',
};

/** T3: the tests, in the order given, as one PDF. Every test must be in the caller's
 * tests:read scope: one that is not (or does not exist) refuses the whole request with
 * NOT_FOUND naming it, so a scoped administrator learns nothing of tests outside its scope. */
export async function printTests(deps: Deps, actorId: string, req: PrintTestsRequest): Promise<PrintTestsResponse> {
  const caller = await Caller.load(deps.authority, actorId);
  caller.scope(PERMISSIONS.testsRead);
  const level = LEVELS[req.level];
  if (!level) throw invalidArgument('level', 'level must be questions, minimum or maximum');
  if (level !== 'questions' && (req.hideTitles || req.hideMedia)) {
    throw invalidArgument(req.hideTitles ? 'hideTitles' : 'hideMedia', 'hiding titles or media is an option of the questions level only');
  }
  if (req.testIds.length === 0) throw invalidArgument('testIds', 'testIds needs at least one test');
  if (req.testIds.length > MAX_PRINTED_TESTS)
    throw invalidArgument('testIds', `at most ${MAX_PRINTED_TESTS} tests can be printed at once (${req.testIds.length} given)`);
  // Each id once, where it first came (its index names it in a refusal).
  const wanted = new Map<string, number>();
  req.testIds.forEach((id, i) => {
    const checked = checkId(`testIds[${i}]`, id);
    if (!wanted.has(checked)) wanted.set(checked, i);
  });

  const { rows } = await deps.db.query<TestRow>('SELECT * FROM tests WHERE id = ANY($1::uuid[])', [[...wanted.keys()]]);
  const byId = new Map(rows.map((r) => [r.id, r]));
  const ordered: TestRow[] = [];
  for (const [id, i] of wanted) {
    const row = byId.get(id);
    if (!row || !caller.covers(PERMISSIONS.testsRead, row.organisation_path)) throw notFound(`no test with id ${id}`, `testIds[${i}]`);
    ordered.push(row);
  }
  const tests = [];
  for (const row of ordered) tests.push(await toTest(deps.db, row));

  const { pdf, pageCount } = await renderTestsPdf(tests, { level, hideTitles: req.hideTitles, hideMedia: req.hideMedia });
  if (pdf.length > MAX_PDF_BYTES) {
    throw invalidArgument(
      'testIds',
      `the document would be ${(pdf.length / 1024 / 1024).toFixed(1)} MiB, more than a print can carry (4 MiB): print fewer tests at a time`,
    );
  }
  return { pdf, filename: printFilename(tests, new Date()), pageCount };
}
