// `npm start`: the whole suite on one machine, on embedded defaults.
// Installs what is missing (npm packages; nats-server from Debian when run as root), starts
// NATS with JetStream, every service and the gateway, waits until the API is ready, prints
// its address, and stops everything on Ctrl-C. Plain Node.js, no dependency: it runs before
// `npm ci` has.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dataDir = resolve(root, process.env.ASSISTANTS_DATA_DIR ?? '.data');
const env = process.env;
const natsPort = Number(env.ASSISTANTS_NATS_PORT ?? 14222);
const identityPort = Number(env.IDENTITY_GRPC_PORT ?? 50051);
const catalogPort = Number(env.CATALOG_GRPC_PORT ?? 50052);
const assignmentPort = Number(env.ASSIGNMENT_GRPC_PORT ?? 50053);
const notificationPort = Number(env.NOTIFICATION_GRPC_PORT ?? 50054);
const statisticsPort = Number(env.STATISTICS_GRPC_PORT ?? 50055);
const importPort = Number(env.IMPORT_GRPC_PORT ?? 50056);
const assessmentPort = Number(env.ASSESSMENT_GRPC_PORT ?? 50057);
// The local mail catcher (npm maildev): every mail the suite sends shows on its web page.
const mailSmtpPort = Number(env.ASSISTANTS_MAIL_SMTP_PORT ?? 1025);
const mailWebPort = Number(env.ASSISTANTS_MAIL_WEB_PORT ?? 1080);
const gatewayPort = Number(env.GATEWAY_PORT ?? 3000);
const healthPort = Number(env.GATEWAY_HEALTH_PORT ?? 3001);
const metricsPorts = {
  IDENTITY: 9401,
  CATALOG: 9402,
  ASSIGNMENT: 9403,
  NOTIFICATION: 9404,
  STATISTICS: 9405,
  IMPORT: 9406,
  ASSESSMENT: 9407,
};

function say(message) {
  process.stdout.write(`[start] ${message}\n`);
}

function fail(message) {
  process.stderr.write(`[start] ${message}\n`);
  process.exit(1);
}

function ensureNodeModules() {
  if (existsSync(join(root, 'node_modules', '.package-lock.json'))) return;
  say('installing npm packages (npm ci)...');
  const result = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) fail('npm ci failed: see above');
}

function hasCommand(name) {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

function ensureNatsServer() {
  if (env.NATS_URL || hasCommand('nats-server')) return;
  if (process.getuid?.() !== 0) {
    fail(
      'nats-server is missing. Install it with:\n\n    sudo apt-get install -y nats-server\n\nor set NATS_URL to a NATS server with JetStream, then run npm start again.',
    );
  }
  say('installing nats-server from Debian (apt-get install -y nats-server)...');
  const update = spawnSync('apt-get', ['update'], { stdio: 'inherit' });
  const install =
    update.status === 0 &&
    spawnSync('apt-get', ['install', '-y', 'nats-server'], { stdio: 'inherit', env: { ...env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (!install || install.status !== 0 || !hasCommand('nats-server')) fail('installing nats-server failed: see above');
}

/** A secret generated once and kept in a file only its owner reads. */
function secret(name, bytes) {
  const file = join(dataDir, name);
  if (!existsSync(file)) writeFileSync(file, `${randomBytes(bytes).toString('base64url')}\n`, { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}

/** The first administrator's password. */
function adminPassword() {
  return env.IDENTITY_BOOTSTRAP_ADMIN_PASSWORD || secret('admin-password', 18);
}

/** The token the parts of the suite present to each other on every gRPC call. */
function serviceToken() {
  return env.ASSISTANTS_SERVICE_TOKEN || secret('service-token', 36);
}

/** TLS between the parts: a certificate for localhost, made once (selfsigned, from npm) and
 * trusted as its own authority. Production gives GRPC_TLS_* from its own authority. */
async function tlsFiles() {
  if (env.GRPC_TLS_CERT) return { GRPC_TLS_CERT: env.GRPC_TLS_CERT, GRPC_TLS_KEY: env.GRPC_TLS_KEY, GRPC_TLS_CA: env.GRPC_TLS_CA };
  const dir = join(dataDir, 'tls');
  const files = { GRPC_TLS_CERT: join(dir, 'cert.pem'), GRPC_TLS_KEY: join(dir, 'key.pem'), GRPC_TLS_CA: join(dir, 'cert.pem') };
  if (!existsSync(files.GRPC_TLS_KEY)) {
    const { generate } = await import('selfsigned');
    const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
      keySize: 2048,
      days: 825,
      extensions: [
        { name: 'basicConstraints', cA: true },
        {
          name: 'subjectAltName',
          altNames: [
            { type: 2, value: 'localhost' },
            { type: 7, ip: '127.0.0.1' },
          ],
        },
      ],
    });
    mkdirSync(dir, { recursive: true });
    writeFileSync(files.GRPC_TLS_CERT, pems.cert);
    writeFileSync(files.GRPC_TLS_KEY, pems.private, { mode: 0o600 });
  }
  return files;
}

function portOpen(port) {
  return new Promise((done) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => socket.end(() => done(true)));
    socket.once('error', () => done(false));
  });
}

const children = [];
let stopping = false;

function run(name, command, args, extraEnv = {}) {
  // Own process group: Ctrl-C reaches this script only, which stops the parts in order.
  const child = spawn(command, args, { cwd: root, env: { ...env, ...extraEnv }, stdio: ['ignore', 'inherit', 'inherit'], detached: true });
  child.once('exit', (code, signal) => {
    if (stopping) return;
    process.stderr.write(`[start] ${name} stopped (${signal ?? `exit code ${code}`}): stopping everything\n`);
    void stop(1);
  });
  children.push({ name, child });
  return child;
}

async function stop(exitCode) {
  if (stopping) return;
  stopping = true;
  say('stopping...');
  // The gateway first, NATS last, so that nobody loses what it is talking to.
  for (const { child } of [...children].reverse()) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = new Promise((done) => child.once('exit', done));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((done) => setTimeout(done, 15_000))]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  process.exit(exitCode);
}

async function waitUntilReady(deadlineMs) {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline && !stopping) {
    try {
      const response = await fetch(`http://127.0.0.1:${healthPort}/readyz`);
      if (response.ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 500));
  }
  return false;
}

async function main() {
  ensureNodeModules();
  ensureNatsServer();
  mkdirSync(dataDir, { recursive: true });
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  process.on('exit', () => children.forEach(({ child }) => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL')));

  let natsUrl = env.NATS_URL;
  if (!natsUrl) {
    if (await portOpen(natsPort))
      fail(`port ${natsPort} is taken: set ASSISTANTS_NATS_PORT to a free port, or NATS_URL to use that server`);
    natsUrl = `nats://127.0.0.1:${natsPort}`;
    run('nats-server', 'nats-server', ['-a', '127.0.0.1', '-p', String(natsPort), '-js', '-sd', join(dataDir, 'nats')]);
    const deadline = Date.now() + 10_000;
    while (!(await portOpen(natsPort))) {
      if (Date.now() > deadline) fail('nats-server did not start');
      await new Promise((done) => setTimeout(done, 100));
    }
  }
  for (const [name, port] of [
    ['IDENTITY_GRPC_PORT', identityPort],
    ['CATALOG_GRPC_PORT', catalogPort],
    ['ASSIGNMENT_GRPC_PORT', assignmentPort],
    ['NOTIFICATION_GRPC_PORT', notificationPort],
    ['STATISTICS_GRPC_PORT', statisticsPort],
    ['IMPORT_GRPC_PORT', importPort],
    ['ASSESSMENT_GRPC_PORT', assessmentPort],
    ...(env.NOTIFICATION_SMTP_HOST
      ? []
      : [
          ['ASSISTANTS_MAIL_SMTP_PORT', mailSmtpPort],
          ['ASSISTANTS_MAIL_WEB_PORT', mailWebPort],
        ]),
    ['GATEWAY_PORT', gatewayPort],
    ['GATEWAY_HEALTH_PORT', healthPort],
    // Each service's Prometheus metrics (its definition's defaultMetricsPort; 0: off).
    ...Object.entries(metricsPorts).map(([name, port]) => [`${name}_METRICS_PORT`, Number(env[`${name}_METRICS_PORT`] ?? port)]),
  ].filter(([, port]) => port !== 0)) {
    if (await portOpen(port)) fail(`port ${port} is taken: set ${name} to a free port`);
  }

  const tsx = ['--import', 'tsx'];
  // The name of the TLS certificate: the services listen on 127.0.0.1, which it names too.
  const identityAddress = `localhost:${identityPort}`;
  const catalogAddress = `localhost:${catalogPort}`;
  const assignmentAddress = `localhost:${assignmentPort}`;
  const notificationAddress = `localhost:${notificationPort}`;
  const statisticsAddress = `localhost:${statisticsPort}`;
  const importAddress = `localhost:${importPort}`;
  const assessmentAddress = `localhost:${assessmentPort}`;
  const security = { ASSISTANTS_SERVICE_TOKEN: serviceToken(), ...(await tlsFiles()) };
  run('identity', process.execPath, [...tsx, 'services/identity/src/main.ts'], {
    ...security,
    NATS_URL: natsUrl,
    IDENTITY_GRPC_PORT: String(identityPort),
    IDENTITY_DATA_DIR: env.IDENTITY_DATA_DIR ?? join(dataDir, 'identity'),
    IDENTITY_BOOTSTRAP_ADMIN_LOGIN: env.IDENTITY_BOOTSTRAP_ADMIN_LOGIN ?? 'admin',
    IDENTITY_BOOTSTRAP_ADMIN_PASSWORD: adminPassword(),
  });
  run('catalog', process.execPath, [...tsx, 'services/catalog/src/main.ts'], {
    ...security,
    NATS_URL: natsUrl,
    CATALOG_GRPC_PORT: String(catalogPort),
    CATALOG_DATA_DIR: env.CATALOG_DATA_DIR ?? join(dataDir, 'catalog'),
    IDENTITY_ADDRESS: identityAddress,
  });
  run('assignment', process.execPath, [...tsx, 'services/assignment/src/main.ts'], {
    ...security,
    NATS_URL: natsUrl,
    ASSIGNMENT_GRPC_PORT: String(assignmentPort),
    ASSIGNMENT_DATA_DIR: env.ASSIGNMENT_DATA_DIR ?? join(dataDir, 'assignment'),
    IDENTITY_ADDRESS: identityAddress,
    CATALOG_ADDRESS: catalogAddress,
  });
  run('statistics', process.execPath, [...tsx, 'services/statistics/src/main.ts'], {
    ...security,
    NATS_URL: natsUrl,
    STATISTICS_GRPC_PORT: String(statisticsPort),
    STATISTICS_DATA_DIR: env.STATISTICS_DATA_DIR ?? join(dataDir, 'statistics'),
    IDENTITY_ADDRESS: identityAddress,
    CATALOG_ADDRESS: catalogAddress,
  });
  run('assessment', process.execPath, [...tsx, 'services/assessment/src/main.ts'], {
    ...security,
    NATS_URL: natsUrl,
    ASSESSMENT_GRPC_PORT: String(assessmentPort),
    ASSESSMENT_DATA_DIR: env.ASSESSMENT_DATA_DIR ?? join(dataDir, 'assessment'),
    IDENTITY_ADDRESS: identityAddress,
    CATALOG_ADDRESS: catalogAddress,
  });
  // Mails go to the local catcher unless NOTIFICATION_SMTP_HOST names a real server.
  const smtp = env.NOTIFICATION_SMTP_HOST ? {} : { NOTIFICATION_SMTP_HOST: '127.0.0.1', NOTIFICATION_SMTP_PORT: String(mailSmtpPort) };
  if (!env.NOTIFICATION_SMTP_HOST) {
    const maildev = join(root, 'node_modules', 'maildev', 'bin', 'maildev');
    const args = [
      '--ip',
      '127.0.0.1',
      '--smtp',
      String(mailSmtpPort),
      '--web',
      String(mailWebPort),
      '--mail-directory',
      join(dataDir, 'mails'),
    ];
    run('maildev', process.execPath, [maildev, ...args]);
  }
  run('notification', process.execPath, [...tsx, 'services/notification/src/main.ts'], {
    ...security,
    ...smtp,
    NATS_URL: natsUrl,
    NOTIFICATION_GRPC_PORT: String(notificationPort),
    NOTIFICATION_DATA_DIR: env.NOTIFICATION_DATA_DIR ?? join(dataDir, 'notification'),
    NOTIFICATION_SECRET_KEY: env.NOTIFICATION_SECRET_KEY || secret('notification-secret-key', 48),
    NOTIFICATION_PLATFORM_URL: env.NOTIFICATION_PLATFORM_URL ?? `http://127.0.0.1:${gatewayPort}`,
    IDENTITY_ADDRESS: identityAddress,
  });
  run('import', process.execPath, [...tsx, 'services/import/src/main.ts'], {
    ...security,
    NATS_URL: natsUrl,
    IMPORT_GRPC_PORT: String(importPort),
    IMPORT_DATA_DIR: env.IMPORT_DATA_DIR ?? join(dataDir, 'import'),
    IMPORT_SECRET_KEY: env.IMPORT_SECRET_KEY || secret('import-secret-key', 48),
    IDENTITY_ADDRESS: identityAddress,
    ASSIGNMENT_ADDRESS: assignmentAddress,
    NOTIFICATION_ADDRESS: notificationAddress,
    STATISTICS_ADDRESS: statisticsAddress,
    CATALOG_ADDRESS: catalogAddress,
  });
  run('gateway', process.execPath, [...tsx, 'gateway/src/main.ts'], {
    ...security,
    IMPORT_ADDRESS: importAddress,
    IDENTITY_ADDRESS: identityAddress,
    CATALOG_ADDRESS: catalogAddress,
    ASSIGNMENT_ADDRESS: assignmentAddress,
    NOTIFICATION_ADDRESS: notificationAddress,
    STATISTICS_ADDRESS: statisticsAddress,
    ASSESSMENT_ADDRESS: assessmentAddress,
    GATEWAY_DATA_DIR: env.GATEWAY_DATA_DIR ?? join(dataDir, 'gateway'),
    GATEWAY_PORT: String(gatewayPort),
    GATEWAY_HEALTH_PORT: String(healthPort),
  });

  if (!(await waitUntilReady(120_000))) {
    process.stderr.write('[start] the suite did not become ready within 2 minutes: see the logs above\n');
    return stop(1);
  }
  const passwordNote = env.IDENTITY_BOOTSTRAP_ADMIN_PASSWORD ? 'IDENTITY_BOOTSTRAP_ADMIN_PASSWORD' : join(dataDir, 'admin-password');
  say('the suite is ready');
  say(`  API:        http://127.0.0.1:${gatewayPort}/v1`);
  say(`  API docs:   http://127.0.0.1:${gatewayPort}/docs`);
  say(`  health:     http://127.0.0.1:${healthPort}/readyz`);
  if (!env.NOTIFICATION_SMTP_HOST) say(`  mails:      http://127.0.0.1:${mailWebPort} (every mail sent, caught locally)`);
  say(`  log in as:  ${env.IDENTITY_BOOTSTRAP_ADMIN_LOGIN ?? 'admin'} (password in ${passwordNote})`);
  say('  demo data:  npm run demo:load (in another terminal)');
  say('Ctrl-C stops everything.');
}

void main();
