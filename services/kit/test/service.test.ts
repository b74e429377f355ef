import { join } from 'node:path';
import { identityAuthority, identityClient } from '@assistants/identity/client';
import { OpsServiceClient } from '@assistants/proto/gen/ops/v1/ops';
import { startIdentityFixture, TEST_SECURITY, type IdentityFixture } from '@assistants/testing';
import { createLogger, grpcClient, startService, withContext, type RunningService, type ServiceDefinition } from '../src';

/** A service that is only its domain: a table, a stream, a consumer. The kit does the rest,
 * the OpsService included; identity (the real one) is its authority. */
const security = TEST_SECURITY;
let broken = true;
let fixture: IdentityFixture;
/** "operator" is identity's first administrator (every permission on the root); "scoped"
 * holds every permission, on one organisation only. */
const actors: Record<'operator' | 'scoped', string> = { operator: '', scoped: '' };

const things: ServiceDefinition = {
  name: 'things',
  defaultPort: 0,
  migrations: join(__dirname, 'fixtures', 'service-migrations'),
  stream: { name: 'THINGS', subjects: ['things.>'] },
  permissions: [{ name: 'things:write', description: 'make things', rootOnly: false }],
  authority: ({ settings }) => identityAuthority(identityClient(fixture.identity.address, { security: settings.security })),
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

let service: RunningService;
let ops: ReturnType<typeof grpcClient<OpsServiceClient>>;

beforeAll(async () => {
  fixture = await startIdentityFixture('service');
  actors.operator = fixture.adminId;
  const { organisation } = await fixture.api.organisations.createOrganisation({ fields: { extId: 'ONE', label: 'one' } });
  const { role } = await fixture.api.roles.createRole({ name: 'Everything', description: '', permissions: ['*'] });
  const { user } = await fixture.api.users.createUser({
    fields: { login: 'scoped', lastName: 'S', firstName: 'S', organisationId: organisation!.id },
    audienceIds: [],
  });
  await fixture.api.roles.grantRoles({ userIds: [user!.id], roleIds: [role!.id], organisationId: organisation!.id });
  actors.scoped = user!.id;
  service = await startService(things, {
    logger: createLogger('things', 'silent'),
    env: {
      ASSISTANTS_SERVICE_TOKEN: security.serviceToken,
      THINGS_GRPC_PORT: '0',
      THINGS_DATABASE_URL: fixture.pg.url,
      NATS_URL: fixture.nats.url,
      EVENTS_MAX_DELIVERIES: '2',
    },
  });
  ops = grpcClient(OpsServiceClient, service.address, { security, serviceName: 'things' });
});

afterAll(async () => {
  ops?.close();
  await service?.stop();
  await fixture?.stop();
});

const as = <T>(actor: 'operator' | 'scoped' | '', fn: () => Promise<T>) => withContext({ actorId: actor && actors[actor] }, fn);

async function until(check: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

it('declares its permissions and the kit’s to the authority', async () => {
  const { permissions } = await fixture.client.roles.listPermissions({});
  expect(permissions.filter((p) => p.service === 'things')).toEqual([
    { name: 'events:manage', description: expect.any(String), service: 'things', rootOnly: true },
    { name: 'things:write', description: 'make things', service: 'things', rootOnly: false },
  ]);
});

it('puts an event its consumer keeps failing on in the dead letters, which an operator lists and replays', async () => {
  await service.outbox.transaction(async (_tx, emit) => emit('things.thing.made.v1', { name: 'widget' }));
  await until(async () => (await service.db.query('SELECT 1 FROM kit_dead_letters')).rows.length === 1);
  // Rolled back twice: nothing applied.
  expect((await service.db.query('SELECT * FROM things_applied')).rows).toEqual([]);

  // Only an operator (events:manage on the root) sees or touches it.
  for (const actor of ['scoped', ''] as const) {
    await expect(as(actor, () => ops.getEventStatus({}))).rejects.toMatchObject({
      code: actor ? 'PERMISSION_DENIED' : 'UNAUTHENTICATED',
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
