import { DomainError } from '@assistants/kit';
import { bellEvents, checkBellText } from '../src/bell';
import { calendarEvents, checkDateTime } from '../src/calendar';

/** The checks of U17's text and U19's date-times, each naming its field. */

const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return err instanceof DomainError ? [err.code, err.field] : err;
  }
  return undefined;
};

it('takes a short plain text, trimmed, line breaks included', () => {
  expect(checkBellText('  Your session starts at 9:00.\nBring a laptop.  ')).toBe('Your session starts at 9:00.\nBring a laptop.');
  expect(checkBellText('5 < 6 and 7 > 3, R&D')).toBe('5 < 6 and 7 > 3, R&D');
  expect(checkBellText('é'.repeat(500))).toHaveLength(500);
});

it('refuses an empty text, one over 500 characters, markup and control characters', () => {
  for (const text of ['', '   ', 'x'.repeat(501), '<p>hi</p>', 'hi<br/>there', '<!-- x -->', 'a &amp; b', 'a &#169; b', 'bell\u0007']) {
    expect([text.slice(0, 12), refusal(() => checkBellText(text))]).toEqual([text.slice(0, 12), ['INVALID_ARGUMENT', 'text']]);
  }
});

it('reads RFC 3339 date-times with an offset as instants', () => {
  expect(checkDateTime('start', '2027-03-02T09:00:00Z')).toBe('2027-03-02T09:00:00.000Z');
  expect(checkDateTime('start', '2027-03-02T10:00:00+01:00')).toBe('2027-03-02T09:00:00.000Z');
  expect(checkDateTime('start', '2027-03-02T09:00Z')).toBe('2027-03-02T09:00:00.000Z');
  expect(checkDateTime('from', '', true)).toBeNull();
  for (const value of ['', '2027-03-02', '2027-03-02T09:00:00', '2027-13-02T09:00:00Z', '2027-02-30T09:00:00Z', 'tomorrow']) {
    expect([value, refusal(() => checkDateTime('end', value))]).toEqual([value, ['INVALID_ARGUMENT', 'end']]);
  }
});

it("keys each event by its user, so that one user's events keep their order", () => {
  const emitted: [string, string | undefined][] = [];
  const emit = (subject: string, _data: unknown, key?: string) => void emitted.push([subject, key]);
  const userId = '5d7d8f53-3a43-4f0e-9d5a-1f3f2b6e9a10';
  bellEvents.sent(emit, { notification: { id: 'n', userId, text: 't', sentBy: '', createdAt: '', readAt: '' } });
  calendarEvents.added(emit, {
    event: { id: 'e', userId, name: 'n', description: '', start: '', end: '', createdBy: '', createdAt: '' },
  });
  expect(emitted).toEqual([
    ['notification.bell.sent.v1', `user:${userId}`],
    ['notification.calendar-event.added.v1', `user:${userId}`],
  ]);
});
