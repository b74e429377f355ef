import { startStack, type TestStack } from '@assistants/testing';

/** The calendar feed needs no credentials (its address is one): guessing addresses is
 * rate-limited like every other request, by client address. */

let stack: TestStack;

beforeAll(async () => {
  stack = await startStack({ GATEWAY_RATE_LIMIT_PER_MINUTE: '5' });
});

afterAll(async () => {
  await stack?.stop();
});

it('answers 429 to a client that tries too many feed addresses', async () => {
  const statuses: number[] = [];
  for (let i = 0; i < 7; i++) {
    const guess = `${String(i).padStart(43, 'x')}.ics`;
    statuses.push((await stack.http('GET', `/v1/calendar/${guess}`, { auth: null })).status);
  }
  expect(statuses).toEqual([404, 404, 404, 404, 404, 429, 429]);
});
