import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** Ports the kernel gives outgoing connections (Linux), which a free port must stay out of. */
function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (low > 0 && high >= low) return [low, high];
  } catch {
    // not Linux
  }
  return [32768, 60999];
}

/** The ports a test server may take: below the ephemeral range. A port taken from that range
 * (listen on 0, close, hand it over) can be given to any outgoing connection of the machine
 * (a database client, a gRPC call) before the server listens on it: the server then fails to
 * start, one test in hundreds under a full suite's load. */
const [FIRST, LAST] = [10000, ephemeralRange()[0] - 1];

function tryListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A TCP port that was free a moment ago, for servers that cannot listen on port 0. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = FIRST + Math.floor(Math.random() * (LAST - FIRST + 1));
    if (await tryListen(port)) return port;
  }
  throw new Error(`no free port between ${FIRST} and ${LAST} after 100 tries`);
}
