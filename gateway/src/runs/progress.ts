import type { RunRow } from './runs.repo';

/** A run as the API shows it: its counters, and how fast it goes and how long is left,
 * estimated from its pace since its first batch. */
export function runBody(row: RunRow, title: string, waitingFor: string, now = new Date()) {
  const end = row.finished_at ?? now;
  const seconds = row.started_at ? (end.getTime() - row.started_at.getTime()) / 1000 : 0;
  const rate = seconds > 0 ? row.done / seconds : 0;
  const ended = row.status === 'completed' || row.status === 'cancelled';
  const left = row.total - row.done - row.not_done;
  return {
    id: row.id,
    assistant: row.assistant,
    action: row.action,
    title,
    params: row.params,
    selection: row.selection as Record<string, unknown>,
    dryRun: row.dry_run,
    status: row.status,
    actorId: row.actor_id,
    actorLogin: row.actor_login,
    correlationId: row.correlation_id,
    total: row.total,
    done: row.done,
    succeeded: row.succeeded,
    unchanged: row.unchanged,
    failed: row.failed,
    notDone: row.not_done,
    ratePerSecond: Math.round(rate * 10) / 10,
    secondsLeft: ended ? 0 : rate > 0 ? Math.ceil(left / rate) : null,
    waitingFor,
    createdAt: row.created_at.toISOString(),
    startedAt: row.started_at?.toISOString() ?? '',
    finishedAt: row.finished_at?.toISOString() ?? '',
  };
}
