// `npm test`'s first step: the system programs the tests run — nats-server (every
// integration test starts its own) and Chromium (the browser tests of the course packages,
// driven by playwright-core: no browser download) — installed from Debian when missing and
// run as root; otherwise it says what to install.
import { spawnSync } from 'node:child_process';

const needed = [
  { command: 'nats-server', pkg: 'nats-server' },
  { command: 'chromium', pkg: 'chromium' },
];
const has = (command) => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
const missing = needed.filter((n) => !has(n.command));
if (missing.length > 0) {
  const packages = missing.map((m) => m.pkg);
  if (process.getuid?.() !== 0) {
    console.error(`the tests need ${packages.join(' and ')}. Install with:\n\n    sudo apt-get install -y ${packages.join(' ')}\n`);
    process.exit(1);
  }
  console.log(`test: installing ${packages.join(', ')} from Debian...`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  const install = update.status === 0 && spawnSync('apt-get', ['install', '-y', '-qq', ...packages], { stdio: 'inherit', env });
  if (!install || install.status !== 0 || missing.some((m) => !has(m.command))) {
    console.error('installing failed: see above');
    process.exit(1);
  }
}
