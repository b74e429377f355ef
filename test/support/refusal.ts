import { DomainError } from '@assistants/kit';

/** The domain error a gRPC call (through a kit client) was refused with; fails when the call
 * succeeded or failed some other way. */
export async function refusal(call: Promise<unknown>): Promise<DomainError> {
  const err = await call.then(
    () => new Error('expected a refusal, the call succeeded'),
    (e: unknown) => e,
  );
  if (!(err instanceof DomainError)) throw err;
  return err;
}
