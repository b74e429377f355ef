import type { EventEnvelope } from '@assistants/kit';
import { Outcome } from '@assistants/proto/gen/batch/v1/batch';
import { actingAs, basic } from '@assistants/testing';
import * as ical from 'node-ical';
import { Assistants, lines } from './assistants-support';

/**
 * Bell notifications (U17) and calendar events (U19) end to end: runs through POST /v1/runs,
 * each user reading its own notifications, agenda and iCalendar feed through the gateway,
 * on the notification service with a real NATS and PostgreSQL.
 */
const t = Assistants.forFile();

const PASSWORD = 'a user password';

const meeting = { name: 'Kick-off', description: 'Room 4, bring a laptop', start: '2027-03-02T09:00:00Z', end: '2027-03-02T10:30:00Z' };

/** A user who can log in, with its Authorization header. */
async function person(fields: Record<string, unknown> = {}) {
  const user = await t.newUser({ ...fields, password: PASSWORD });
  return { ...user, auth: basic(user.login, PASSWORD) };
}

const names = (...users: { id: string; login: string }[]) => Object.fromEntries(users.map((u) => [u.id, u.login]));

/** The notification service's events of a run (by its correlation id). */
async function notificationEvents(run: { correlationId: string }): Promise<EventEnvelope<any>[]> {
  const service = t.stack.notification;
  await service.outbox.flush();
  const { state } = await service.bus.jsm.streams.info('NOTIFICATION');
  const events: EventEnvelope<any>[] = [];
  for (let seq = state.first_seq; seq <= state.last_seq; seq++) {
    const message = await service.bus.jsm.streams.getMessage('NOTIFICATION', { seq }).catch(() => null);
    const event = message?.json<EventEnvelope>();
    if (event && event.correlationId === run.correlationId) events.push(event);
  }
  return events;
}

const count = async (table: string, userIds: string[]) =>
  (await t.stack.notification.db.query(`SELECT count(*)::int AS n FROM ${table} WHERE user_id = ANY($1::uuid[])`, [userIds])).rows[0]
    .n as number;

describe('U17: bell notifications', () => {
  it('gives each selected user one notification, listed newest first with the unread count; mark one, mark all', async () => {
    const [a, b, c] = [await person(), await person(), await person()];
    const first = await t.users('U17', [a.id, b.id, c.id], { text: 'Your training starts on Monday.' });
    expect(lines(first.results, names(a, b, c)).sort()).toEqual([a, b, c].map((u) => `${u.login}: succeeded`).sort());
    const events = await notificationEvents(first.run);
    expect(events.map((e) => [e.subject, e.data.notification.userId, e.data.notification.text]).sort()).toEqual(
      [a, b, c].map((u) => ['notification.bell.sent.v1', u.id, 'Your training starts on Monday.']).sort(),
    );
    await t.users('U17', [a.id], { text: 'Second message' });

    const mine = await t.get('/v1/me/notifications', a.auth);
    expect(mine).toMatchObject({ total: 2, unread: 2, limit: 50, offset: 0 });
    expect(mine.items.map((n: any) => [n.text, n.readAt])).toEqual([
      ['Second message', null],
      ['Your training starts on Monday.', null],
    ]);
    expect(mine.items[0].sentBy).toBe(t.stack.fixture.adminId);
    expect((await t.get('/v1/me/notifications?limit=1&offset=1', a.auth)).items.map((n: any) => n.text)).toEqual([
      'Your training starts on Monday.',
    ]);
    expect(await t.get('/v1/me/notifications', b.auth)).toMatchObject({ total: 1, unread: 1 });

    const read = await t.post(`/v1/me/notifications/${mine.items[1].id}/read`, undefined, a.auth);
    expect(read).toMatchObject({ id: mine.items[1].id, text: 'Your training starts on Monday.' });
    expect(read.readAt).toEqual(expect.any(String));
    expect(await t.get('/v1/me/notifications', a.auth)).toMatchObject({ total: 2, unread: 1 });
    expect(await t.post('/v1/me/notifications/read-all', undefined, a.auth)).toEqual({ marked: 1 });
    expect(await t.get('/v1/me/notifications', a.auth)).toMatchObject({ total: 2, unread: 0 });
    expect(await t.post('/v1/me/notifications/read-all', undefined, a.auth)).toEqual({ marked: 0 });
    // b's are b's own: still unread.
    expect(await t.get('/v1/me/notifications', b.auth)).toMatchObject({ total: 1, unread: 1 });
  });

  it("a user cannot read or mark another user's notification", async () => {
    const [a, b] = [await person(), await person()];
    await t.users('U17', [a.id], { text: 'For a only' });
    const [note] = (await t.get('/v1/me/notifications', a.auth)).items;
    const marked = await t.request('POST', `/v1/me/notifications/${note.id}/read`, undefined, b.auth);
    expect([marked.status, marked.body.error]).toEqual([404, 'not_found']);
    expect(await t.get('/v1/me/notifications', b.auth)).toMatchObject({ total: 0, unread: 0, items: [] });
    expect(await t.post('/v1/me/notifications/read-all', undefined, b.auth)).toEqual({ marked: 0 });
    expect(await t.get('/v1/me/notifications', a.auth)).toMatchObject({ total: 1, unread: 1 });
    // Without credentials: nothing.
    expect((await t.request('GET', '/v1/me/notifications', undefined, null as never)).status).toBe(401);
    // A user whose password an administrator set must change it first, as everywhere else.
    const forced = await person({ mustChangePassword: true });
    const blocked = await t.request('GET', '/v1/me/notifications', undefined, forced.auth);
    expect([blocked.status, blocked.body.error]).toEqual([409, 'failed_precondition']);
  });

  it('refuses HTML, an empty or too long text, before anything starts', async () => {
    const user = await person();
    for (const [text, field] of [
      ['<b>bold</b>', 'params.text'],
      ['a &amp; b', 'params.text'],
      ['', 'params.text'],
      ['x'.repeat(501), 'params.text'],
    ]) {
      const refused = await t.startRun({ assistant: 'users', action: 'U17', selection: { type: 'ids', ids: [user.id] }, params: { text } });
      expect([text.slice(0, 20), refused.status, refused.body.field]).toEqual([text.slice(0, 20), 400, field]);
    }
    expect(await count('bell_notifications', [user.id])).toBe(0);
  });
});

describe('U19: calendar events', () => {
  it("puts the event in each selected user's agenda", async () => {
    const [a, b] = [await person(), await person()];
    const { run, results } = await t.users('U19', [a.id, b.id], meeting);
    expect(lines(results, names(a, b)).sort()).toEqual([`${a.login}: succeeded`, `${b.login}: succeeded`].sort());
    for (const user of [a, b]) {
      const agenda = await t.get('/v1/me/agenda?from=2027-03-01T00:00:00Z&to=2027-03-03T00:00:00Z', user.auth);
      expect(agenda.items).toEqual([
        expect.objectContaining({
          name: 'Kick-off',
          description: 'Room 4, bring a laptop',
          start: '2027-03-02T09:00:00.000Z',
          end: '2027-03-02T10:30:00.000Z',
        }),
      ]);
      expect((await t.get('/v1/me/agenda?from=2027-03-02T10:30:00Z', user.auth)).items).toEqual([]);
      expect((await t.get('/v1/me/agenda?to=2027-03-02T09:00:00Z', user.auth)).items).toEqual([]);
    }
    const backwards = await t.request('GET', '/v1/me/agenda?from=2027-03-02T00:00:00Z&to=2027-03-01T00:00:00Z', undefined, a.auth);
    expect([backwards.status, backwards.body.field]).toEqual([400, 'to']);
    const events = await notificationEvents(run);
    expect(events.map((e) => [e.subject, e.data.event.userId, e.data.event.name]).sort()).toEqual(
      [a, b].map((u) => ['notification.calendar-event.added.v1', u.id, 'Kick-off']).sort(),
    );
  });

  it('serves the agenda as an iCalendar feed behind a secret address that can be replaced and revoked', async () => {
    const user = await person();
    await t.users('U19', [user.id], meeting);
    const created = await t.request('POST', '/v1/me/calendar-feed', undefined, user.auth);
    expect(created.status).toBe(201);
    expect(created.body.path).toMatch(/^\/v1\/calendar\/[\w-]{43}\.ics$/);
    expect(created.body.url).toBe(`${t.stack.url}${created.body.path}`);

    // No credentials: the address is the credential.
    const feed = await t.stack.http('GET', created.body.path, { auth: null });
    expect(feed.status).toBe(200);
    expect(feed.headers.get('content-type')).toMatch(/^text\/calendar/);
    const parsed = Object.values(ical.sync.parseICS(feed.body)).filter((c) => c?.type === 'VEVENT') as ical.VEvent[];
    expect(parsed).toHaveLength(1);
    expect(String(parsed[0].summary)).toBe('Kick-off');
    expect(String(parsed[0].description)).toBe('Room 4, bring a laptop');
    expect(new Date(parsed[0].start!).toISOString()).toBe('2027-03-02T09:00:00.000Z');
    expect(new Date(parsed[0].end!).toISOString()).toBe('2027-03-02T10:30:00.000Z');
    // Only the token's hash is stored.
    const token = /([\w-]+)\.ics$/.exec(created.body.path)![1];
    const stored = (await t.stack.notification.db.query('SELECT token_sha256 FROM calendar_feeds WHERE user_id = $1', [user.id])).rows;
    expect(stored).toHaveLength(1);
    expect((stored[0] as { token_sha256: Buffer }).token_sha256.toString('base64url')).not.toBe(token);

    // A new address replaces the old one.
    const renewed = await t.post('/v1/me/calendar-feed', undefined, user.auth);
    expect(renewed.path).not.toBe(created.body.path);
    expect((await t.stack.http('GET', created.body.path, { auth: null })).status).toBe(404);
    expect((await t.stack.http('GET', renewed.path, { auth: null })).status).toBe(200);

    // Revoked: 404; so is an address that never was.
    expect((await t.request('DELETE', '/v1/me/calendar-feed', undefined, user.auth)).status).toBe(204);
    expect((await t.stack.http('GET', renewed.path, { auth: null })).status).toBe(404);
    expect((await t.stack.http('GET', `/v1/calendar/${'A'.repeat(43)}.ics`, { auth: null })).status).toBe(404);
    expect((await t.stack.http('GET', '/v1/calendar/nothing', { auth: null })).status).toBe(404);
  });

  it('refuses an end before (or at) the start, naming params.end', async () => {
    const user = await person();
    for (const end of ['2027-03-02T08:00:00Z', meeting.start]) {
      const refused = await t.startRun({
        assistant: 'users',
        action: 'U19',
        selection: { type: 'ids', ids: [user.id] },
        params: { ...meeting, end },
      });
      expect([refused.status, refused.body.field]).toEqual([400, 'params.end']);
    }
    expect(await count('calendar_events', [user.id])).toBe(0);
  });
});

describe('batches', () => {
  it("a scoped administrator's U17 and U19 fail OUT_OF_SCOPE for users outside its scope", async () => {
    const branch = await t.newOrganisation('Branch');
    const elsewhere = await t.newOrganisation('Elsewhere');
    const admin = await t.scopedAdministrator(branch, ['users:read', 'notifications:send', 'calendar-events:write']);
    const inside = await person({ organisationId: branch });
    const outside = await person({ organisationId: elsewhere });
    const client = actingAs(t.stack.notification.client, admin.id);

    const sent = await client.bell.sendNotifications({
      batch: { idempotencyKey: t.unique('bell'), dryRun: false },
      userIds: [inside.id, outside.id],
      text: 'Scoped hello',
    });
    expect(sent.result!.results.map((r) => [r.itemId, r.outcome, r.code])).toEqual([
      [inside.id, Outcome.OUTCOME_SUCCEEDED, ''],
      [outside.id, Outcome.OUTCOME_FAILED, 'OUT_OF_SCOPE'],
    ]);
    const added = await client.calendar.addCalendarEvents({
      batch: { idempotencyKey: t.unique('calendar'), dryRun: false },
      userIds: [inside.id, outside.id],
      name: 'Scoped event',
      description: '',
      start: '2027-05-01T08:00:00Z',
      end: '2027-05-01T09:00:00Z',
    });
    expect(added.result!.results.map((r) => [r.itemId, r.outcome, r.code])).toEqual([
      [inside.id, Outcome.OUTCOME_SUCCEEDED, ''],
      [outside.id, Outcome.OUTCOME_FAILED, 'OUT_OF_SCOPE'],
    ]);
    expect(await count('bell_notifications', [outside.id])).toBe(0);
    expect(await count('calendar_events', [outside.id])).toBe(0);
    expect(await count('bell_notifications', [inside.id])).toBe(1);
    expect(await count('calendar_events', [inside.id])).toBe(1);

    // Through a run: users outside its scope are not even selected.
    const { run } = await t.users('U17', [inside.id, outside.id], { text: 'Run hello' }, { auth: admin.auth });
    expect(run).toMatchObject({ actorId: admin.id, total: 1, succeeded: 1 });
    expect(await count('bell_notifications', [outside.id])).toBe(0);

    // Without the permission at all: refused before anything starts.
    const reader = await t.scopedAdministrator(branch, ['users:read']);
    const refused = await t.startRun(
      { assistant: 'users', action: 'U19', selection: { type: 'ids', ids: [inside.id] }, params: meeting },
      reader.auth,
    );
    expect(refused.status).toBe(403);
  });

  it('a repeated batch key applies once; a dry run writes nothing', async () => {
    const user = await person();
    const client = actingAs(t.stack.notification.client, t.stack.fixture.adminId);
    const batch = { idempotencyKey: t.unique('repeat'), dryRun: false };
    const first = await client.bell.sendNotifications({ batch, userIds: [user.id], text: 'Once' });
    const again = await client.bell.sendNotifications({ batch, userIds: [user.id], text: 'Once' });
    expect([first.result!.replayed, again.result!.replayed]).toEqual([false, true]);
    expect(again.result!.results).toEqual(first.result!.results);
    expect(await count('bell_notifications', [user.id])).toBe(1);
    const eventBatch = { idempotencyKey: t.unique('repeat'), dryRun: false };
    const event = { userIds: [user.id], name: 'Once', description: '', start: '2027-06-01T08:00:00Z', end: '2027-06-01T09:00:00Z' };
    await client.calendar.addCalendarEvents({ batch: eventBatch, ...event });
    expect((await client.calendar.addCalendarEvents({ batch: eventBatch, ...event })).result!.replayed).toBe(true);
    expect(await count('calendar_events', [user.id])).toBe(1);

    const other = await person();
    const dryBell = await t.users('U17', [other.id], { text: 'Not really' }, { dryRun: true });
    const dryEvent = await t.users('U19', [other.id], meeting, { dryRun: true });
    expect([dryBell.run.succeeded, dryEvent.run.succeeded]).toEqual([1, 1]);
    expect(await count('bell_notifications', [other.id])).toBe(0);
    expect(await count('calendar_events', [other.id])).toBe(0);
    expect(await notificationEvents(dryBell.run)).toEqual([]);
    expect(await notificationEvents(dryEvent.run)).toEqual([]);
  });
});
