import { randomBytes } from 'node:crypto';
import { createTestDatabase, startNats, type TestDatabase, type TestNats } from '@assistants/testing';
import { OpsServiceClient } from '@assistants/proto/gen/ops/v1/ops';
import { join } from 'node:path';
import {
  createLogger,
  grpcClient,
  ROOT_ORGANISATION_ID,
  startService,
  unauthenticated,
  withContext,
  type PermissionDeclaration,
  type RunningService,
  type ServiceDefinition,
} from '../src';

/** A service that is only its domain: a table, a stream, a consumer. The kit does the rest,
 * the OpsService included. */
const security = { serviceToken: randomBytes(32).toString('base64url') };
const registered: { service: string; permissions: PermissionDeclaration[] }[] = [];
let broken = true;

const things: ServiceDefinition = {
  name: 'things',
  defaultPort: 0,
  migrations: join(__dirname, 'fixtures', 'service-migrations'),
  stream: { name: 'THINGS', subjects: ['things.>'] },
  permissions: [{ name: 'things:write', description: 'make things', rootOnly: false }],
  authority: () => ({
    // Stands for identity: "operator" holds events:manage on the root, "scoped" holds
    // everything on one organisation only.
    principal: async (actorId) => {
      if (actorId === 'operator') return { grants: [{ organisationId: ROOT_ORGANISATION_ID, permissions: ['events:manage'] }] };
      if (actorId === 'scoped') return { grants: [{ organisationId: '7d1f2a6e-0000-4000-8000-000000000099', permissions: ['*'] }] };
      throw unauthenticated('unknown user');
    },
    registerPermissions: async (service, permissions) => void registered.push({ service, permissions }),
  }),
  grpc: () => [],
  consumers: () => [
    {
      stream: 'THINGS',
      durable: 'things-apply',
      subject: 'things.thing.>',
      handler: async (event, { tx }) => {
        await tx.query('INSERT INTO things_applied (event_id, name) VALUES ($1, $2)', [event.id, (event.data as { name: string }).name]);
        if (broken) throw new Error('the handler is broken');
      },
    },
  ],
};

let nats: TestNats;
let pg: TestDatabase;
let service: RunningService;
let ops: ReturnType<typeof grpcClient<OpsServiceClient>>;

beforeAll(async () => {
  [nats, pg] = await Promise.all([startNats(), createTestDatabase('service')]);
  service = await startService(things, {
    logger: createLogger('things', 'silent'),
    env: {
      ASSISTANTS_SERVICE_TOKEN: security.serviceToken,
      THINGS_GRPC_PORT: '0',
      THINGS_DATABASE_URL: pg.url,
      NATS_URL: nats.url,
      EVENTS_MAX_DELIVERIES: '2',
    },
  });
  ops = grpcClient(OpsServiceClient, service.address, { security, serviceName: 'things' });
});

afterAll(async () => {
  ops?.close();
  await service?.stop();
  await Promise.all([nats?.stop(), pg?.drop()]);
});

const as = <T>(actorId: string, fn: () => Promise<T>) => withContext({ actorId }, fn);

async function until(check: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

it('declares its permissions and the kit’s to the authority', () => {
  expect(registered).toEqual([
    {
      service: 'things',
      permissions: [
        { name: 'things:write', description: 'make things', rootOnly: false },
        expect.objectContaining({ name: 'events:manage', rootOnly: true }),
      ],
    },
  ]);
});

it('puts an event its consumer keeps failing on in the dead letters, which an operator lists and replays', async () => {
  await service.outbox.transaction(async (_tx, emit) => emit('things.thing.made.v1', { name: 'widget' }));
  await until(async () => (await service.db.query('SELECT 1 FROM kit_dead_letters')).rows.length === 1);
  // Rolled back twice: nothing applied.
  expect((await service.db.query('SELECT * FROM things_applied')).rows).toEqual([]);

  // Only an operator (events:manage on the root) sees or touches it.
  for (const actorId of ['scoped', '']) {
    await expect(as(actorId, () => ops.getEventStatus({}))).rejects.toMatchObject({
      code: actorId ? 'PERMISSION_DENIED' : 'UNAUTHENTICATED',
    });
  }
  const status = await as('operator', () => ops.getEventStatus({}));
  expect(status).toMatchObject({
    service: 'things',
    pending: 0,
    unpublishable: 0,
    consumers: [{ durable: 'things-apply', deadLetters: 1 }],
  });
  const { deadLetters, total } = await as('operator', () => ops.listDeadLetters({ consumer: 'things-apply', limit: 10, offset: 0 }));
  expect(total).toBe(1);
  expect(deadLetters[0]).toMatchObject({
    consumer: 'things-apply',
    subject: 'things.thing.made.v1',
    error: 'Error: the handler is broken',
    deliveries: 2,
  });
  expect(JSON.parse(deadLetters[0].envelopeJson).data).toEqual({ name: 'widget' });

  broken = false;
  const replayed = await as('operator', () => ops.replayDeadLetters({ ids: [deadLetters[0].id, '999999'] }));
  expect(replayed).toEqual({ replayed: 1, failed: [], notFound: ['999999'] });
  expect((await service.db.query('SELECT name FROM things_applied')).rows).toEqual([{ name: 'widget' }]);
  expect((await as('operator', () => ops.getEventStatus({}))).consumers).toEqual([{ durable: 'things-apply', deadLetters: 0 }]);
});
