import { startStack, type TestStack } from '@assistants/testing';

let stack: TestStack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.stop();
});

it('runs in the stack: the gateway reports it ready and its event plumbing', async () => {
  const ready = (await fetch(`${stack.healthUrl}/readyz`).then((r) => r.json())) as { checks: Record<string, boolean> };
  expect(ready.checks.notification).toBe(true);
  const events = await stack.http('GET', '/v1/ops/events');
  expect(events.status).toBe(200);
  expect(events.body.items.map((i: { service: string }) => i.service)).toContain('notification');
});
