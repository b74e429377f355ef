import { withContext } from '@assistants/kit';
import type { LessonSessionImport, SessionImportRow } from '@assistants/proto/gen/catalog/v1/sessions';
import { readCell, type KindDeclaration } from '../engine/columns';
import type { RowOutcome } from '../engine/process';
import type { ParsedRow } from '../engine/rows';
import { header, outcomesOf, type Applier } from './apply';
import { LESSON_SESSION_PARTS_SEPARATOR, LESSON_SESSIONS_SEPARATOR, ORGANISATIONS_SEPARATOR, TRAINERS_SEPARATOR } from './sessions';

const text = (value: unknown) => (value as string | null) ?? '';
const split = (value: unknown, separator: string) => [
  ...new Set(
    text(value)
      .split(separator)
      .map((s) => s.trim())
      .filter((s) => s !== ''),
  ),
];

const DATETIME = { name: 'lesson_sessions', field: 'lessonSessions', type: 'datetime', description: '', example: '' } as const;

/** The lesson sessions cell (`lessonId|start|end$lessonId2|start|end`), or why it cannot be
 * read. Whether each lesson is the course's, and each end after its start, is the catalog's to
 * say. */
export function readLessonSessions(cell: unknown): LessonSessionImport[] | { error: string } {
  const sessions: LessonSessionImport[] = [];
  const parts = text(cell)
    .split(LESSON_SESSIONS_SEPARATOR)
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const [i, part] of parts.entries()) {
    const which = `lesson session ${i + 1}`;
    const [lessonCode, start, end, ...rest] = part.split(LESSON_SESSION_PARTS_SEPARATOR).map((s) => s.trim());
    if (!lessonCode || start === undefined || end === undefined || rest.length > 0) {
      return { error: `lesson_sessions: ${which} must be lessonId|start|end` };
    }
    const times = [readCell(DATETIME, start), readCell(DATETIME, end)];
    if (times.some((t) => 'error' in t || t.value === null)) {
      return { error: `lesson_sessions: ${which}: start and end must be dates and times YYYY/MM/DD HH:mm` };
    }
    const [s, e] = times.map((t) => (t as { value: string }).value);
    sessions.push({ lessonCode, start: s, end: e });
  }
  return sessions;
}

/** I8: each chunk to the catalog service. A lesson sessions cell that cannot be read rejects
 * its row here; the other rows go to the catalog. */
export const sessionsApplier =
  (kind: KindDeclaration): Applier =>
  async (upstreams, call) => {
    const outcomes: (RowOutcome | undefined)[] = call.rows.map(() => undefined);
    const sent: { index: number; parsed: ParsedRow; row: SessionImportRow }[] = [];
    call.rows.forEach((r, index) => {
      const lessonSessions = readLessonSessions(r.values.lessonSessions);
      if ('error' in lessonSessions) {
        const value = r.cells.lessonSessions ?? '';
        outcomes[index] = {
          outcome: 'failed',
          issues: [{ line: r.line, column: 'lesson_sessions', value, severity: 'error', message: lessonSessions.error }],
        };
        return;
      }
      const maxParticipants = r.values.maxParticipants as number;
      sent.push({
        index,
        parsed: r,
        row: {
          itemId: String(r.line),
          courseCode: text(r.values.courseCode),
          lessonSessions,
          start: text(r.values.start),
          externalId: text(r.values.externalId),
          status: text(r.values.status),
          // The catalog refuses less than 1, naming the column (never a negative uint32).
          maxParticipants: Number.isInteger(maxParticipants) && maxParticipants > 0 ? Math.min(maxParticipants, 2 ** 31 - 1) : 0,
          immediateConfirmation: r.values.immediateConfirmation === 'Y',
          waitingList: r.values.waitingList === 'Y',
          trainerLogin: text(r.values.trainerLogin),
          additionalTrainerLogins: split(r.values.additionalTrainers, TRAINERS_SEPARATOR),
          roomExtId: text(r.values.roomExtId),
          managerLogin: text(r.values.managerLogin),
          organisationExtIds: split(r.values.organisations, ORGANISATIONS_SEPARATOR),
        },
      });
    });
    if (sent.length > 0) {
      const { result } = await withContext({ actorId: call.actorId }, () =>
        upstreams.catalog.sessions.importSessions({ batch: header(call), rows: sent.map((s) => s.row) }),
      );
      const answered = outcomesOf(
        kind,
        sent.map((s) => s.parsed),
        result!.results,
      );
      sent.forEach((s, i) => (outcomes[s.index] = answered[i]));
    }
    return outcomes as RowOutcome[];
  };
