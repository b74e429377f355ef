import { hash } from 'node:crypto';
import { asDomainError, withContext } from '@assistants/kit';
import type { UnchangedRows } from '../engine/process';
import type { KindOptions } from '../options';
import type { Upstreams } from '../upstreams';

const REFUSALS = ['PERMISSION_DENIED', 'UNAUTHENTICATED', 'FAILED_PRECONDITION'];

/** I2: the rows identity knows to be unchanged (FindUnchangedUsers) are counted so without
 * being read further or sent. A row's fingerprint is its cells (without the password: it
 * must not be kept, even hashed, outside the password hash) with what else decides how the
 * row is read and applied: the file's columns and encoding, the job's options. A row whose
 * password would be set (updatePasswords) is always sent. */
export function usersUnchanged(upstreams: Upstreams, job: { id: string; actorId: string; options: KindOptions }): UnchangedRows {
  let context: { header: unknown; prefix: string; password: number } | undefined;
  const options = JSON.stringify(Object.entries(job.options).sort(([a], [b]) => a.localeCompare(b)));
  return {
    fingerprint(header, row) {
      if (context?.header !== header) {
        const columns = header.columns.map((c) => c.field).join('\u0000');
        context = {
          header,
          prefix: `${hash('sha256', `I2\u0001${options}\u0001${header.format.encoding}\u0001${columns}`)}\u0001`,
          password: header.columns.findIndex((c) => c.field === 'password'),
        };
      }
      const password = context.password >= 0 ? row.record.field(context.password)!.trim() : '';
      if (password === '') return hash('sha256', context.prefix + row.record.raw, 'buffer');
      if (job.options.updatePasswords === true) return undefined;
      const fields = row.record.fields.map((f, i) => (i === context!.password ? '' : f));
      return hash('sha256', context.prefix + fields.join('\u0000'), 'buffer');
    },
    async find(_no, rows) {
      try {
        const { itemIds } = await withContext({ actorId: job.actorId }, () =>
          upstreams.identity.imports.findUnchangedUsers({
            matchOn: job.options.matchOn === 'extId' ? 'ext_id' : 'login',
            jobId: job.id,
            rows: rows.map((r) => ({ itemId: String(r.line), key: r.key, fingerprint: r.fingerprint })),
          }),
        );
        return new Set(itemIds.map(Number));
      } catch (error) {
        // A refusal (the importer lost its permission...) is the chunk's to give: its rows are
        // sent, and refused with the reason.
        if (REFUSALS.includes(asDomainError(error)?.code ?? '')) return new Set();
        throw error;
      }
    },
  };
}
