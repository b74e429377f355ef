import { DomainError } from '@assistants/kit';
import { Outcome } from '@assistants/proto/gen/batch/v1/batch';
import { csvCell } from '@assistants/kit';
import { decodeCursor, encodeCursor } from '../src/runs/cursor';
import { runBody } from '../src/runs/progress';
import type { RunRow } from '../src/runs/runs.repo';
import { userSelections } from '../src/runs/selections';
import { toStoredResults } from '../src/runs/worker';
import { MAX_ATTEMPTS, retriable } from '../src/runs/claim-loop';

const A = '0a000000-0000-4000-8000-000000000001';
const B = '0b000000-0000-4000-8000-000000000002';
const C = '0c000000-0000-4000-8000-000000000003';

describe('a batch answer as stored results', () => {
  it('numbers the results of each item, reports an item the service forgot, and a result without outcome as failed', () => {
    const items = [
      { seq: 7, item_id: A },
      { seq: 8, item_id: B },
      { seq: 9, item_id: C },
    ];
    const result = (itemId: string, targetId: string, outcome: Outcome, code = '') => ({ itemId, targetId, outcome, code, message: '' });
    expect(
      toStoredResults(items, [
        result(A, 'course-1', Outcome.OUTCOME_SUCCEEDED),
        result(A.toUpperCase(), 'course-2', Outcome.OUTCOME_FAILED, 'AUDIENCE_MISMATCH'),
        result(C, '', Outcome.OUTCOME_UNSPECIFIED),
        result('ff000000-0000-4000-8000-000000000009', '', Outcome.OUTCOME_SUCCEEDED),
      ]),
    ).toEqual([
      { seq: 7, n: 0, targetId: 'course-1', outcome: 'succeeded', code: '', message: '' },
      { seq: 7, n: 1, targetId: 'course-2', outcome: 'failed', code: 'AUDIENCE_MISMATCH', message: '' },
      { seq: 8, n: 0, targetId: '', outcome: 'failed', code: 'NO_RESULT', message: 'the service answered nothing for this item' },
      { seq: 9, n: 0, targetId: '', outcome: 'failed', code: 'NO_OUTCOME', message: '' },
    ]);
  });
});

describe('a failed batch sent again or reported', () => {
  it('sends again a batch whose service was away or whose transaction a concurrent one rolled back, reports a refusal, and gives up on a bug after MAX_ATTEMPTS', () => {
    for (const code of ['UNAVAILABLE', 'DEADLINE_EXCEEDED', 'RESOURCE_EXHAUSTED', 'ABORTED'] as const) {
      expect([code, retriable(new DomainError(code, 'x'), 50)]).toEqual([code, true]);
    }
    expect(retriable(new DomainError('PERMISSION_DENIED', 'x'), 1)).toBe(false);
    expect(retriable(new Error('a bug'), MAX_ATTEMPTS - 1)).toBe(true);
    expect(retriable(new Error('a bug'), MAX_ATTEMPTS)).toBe(false);
  });
});

describe('CSV cells', () => {
  it('quotes separators, quotes and line breaks, and defuses formulas', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a;b')).toBe('"a;b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvCell('-1')).toBe("'-1");
  });
});

describe('cursors', () => {
  it('round-trips a key and refuses anything else with a 400 on query.after', () => {
    expect(decodeCursor(encodeCursor([3, 1]), ['number', 'number'])).toEqual([3, 1]);
    for (const bad of ['', 'nope', encodeCursor([1]), encodeCursor([1.5, 0]), encodeCursor(['1', 0])]) {
      expect(() => decodeCursor(bad, ['number', 'number'])).toThrow(DomainError);
      try {
        decodeCursor(bad, ['number', 'number']);
      } catch (err) {
        expect((err as DomainError).field).toBe('query.after');
      }
    }
  });
});

describe('progress', () => {
  const row = (patch: Partial<RunRow>): RunRow => ({
    id: A,
    assistant: 'users',
    action: 'U2',
    params: {},
    selection: {},
    actor_id: B,
    actor_login: 'admin',
    correlation_id: 'c',
    dry_run: false,
    status: 'running',
    total: 1000,
    batch_size: 100,
    done: 0,
    succeeded: 0,
    unchanged: 0,
    failed: 0,
    not_done: 0,
    created_at: new Date('2026-01-01T10:00:00Z'),
    started_at: null,
    finished_at: null,
    ...patch,
  });

  it('has no rate nor estimate before its first batch', () => {
    expect(runBody(row({ status: 'pending' }), 'Add audiences', '')).toMatchObject({ ratePerSecond: 0, secondsLeft: null, startedAt: '' });
  });

  it('estimates the time left from the pace since the first batch, and none once ended', () => {
    const started = row({ done: 400, started_at: new Date('2026-01-01T10:00:00Z') });
    expect(runBody(started, 'Add audiences', '', new Date('2026-01-01T10:00:02Z'))).toMatchObject({ ratePerSecond: 200, secondsLeft: 3 });
    const ended = row({
      status: 'completed',
      done: 1000,
      started_at: new Date('2026-01-01T10:00:00Z'),
      finished_at: new Date('2026-01-01T10:00:04Z'),
    });
    expect(runBody(ended, 'Add audiences', '')).toMatchObject({
      ratePerSecond: 250,
      secondsLeft: 0,
      finishedAt: '2026-01-01T10:00:04.000Z',
    });
  });
});

describe('user selections', () => {
  it('are checked against the variant their type names, naming the field', () => {
    const fieldOf = (value: unknown) => {
      try {
        userSelections.check(value, 'selection');
        return 'valid';
      } catch (err) {
        return (err as DomainError).field;
      }
    };
    expect(fieldOf({ type: 'ids', ids: [A] })).toBe('valid');
    expect(fieldOf({ type: 'ids', ids: ['x'] })).toBe('selection.ids.0');
    expect(fieldOf({ type: 'list' })).toBe('selection.listId');
    expect(fieldOf({ type: 'filter', filter: { lastName: 'x', surname: 'y' } })).toBe('selection.filter.surname');
    expect(fieldOf({ type: 'everyone' })).toBe('selection.type');
    expect(fieldOf(undefined)).toBe('selection.type');
  });
});
