import type { ExportTestQtiResponse } from '@assistants/proto/gen/assessment/v1/qti';
import type { Deps } from '../deps';
import { getTest } from '../tests';
import { qtiPackage, qtiTestOf } from './export';

/** T5: the test as a QTI 2.1 package, read as GetTest reads it (tests:read on its
 * organisation; NOT_FOUND outside the caller's scope, PERMISSION_DENIED without the permission). */
export async function exportTestQti(deps: Deps, actorId: string, id: string): Promise<ExportTestQtiResponse> {
  const test = await getTest(deps, actorId, id);
  // The external id is the author's: only safe characters go into a file name.
  const name = test.externalId.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 100) || 'test';
  return { zip: await qtiPackage(qtiTestOf(test)), fileName: `${name}.qti.zip` };
}
