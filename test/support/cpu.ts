import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import pg from 'pg';
import type { SuiteProcesses } from './suite';

/**
 * Where a benchmark's CPU went: the CPU time of every process this one started (the suite's
 * parts and nats-server, by the names given), of the PostgreSQL backends of the bench's
 * database (sampled every second: backends come and go with the pools) and of the bench
 * itself, from /proc. Linux only, as the benches run.
 */

/** Clock ticks per second of /proc's CPU times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** utime + stime of a process, in ticks; undefined when it is gone. */
function cpuTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

/** The busy and total ticks of the whole machine (/proc/stat, every core). */
function machineTicks(): { busy: number; total: number } {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1).map(Number);
  const idle = cpu[3]! + cpu[4]!; // idle + iowait
  const total = cpu.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/** The processes this one started, by pid, named from `names` or by their command. */
function children(names: Map<number, string>): Map<number, string> {
  const found = new Map<number, string>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const ppid = Number(stat.slice(close + 2).split(' ')[1]);
      if (ppid === process.pid) found.set(Number(entry), names.get(Number(entry)) ?? stat.slice(stat.indexOf('(') + 1, close));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

export interface CpuUsage {
  /** CPU seconds per process name (PostgreSQL: every backend of the database), largest first. */
  rows: { name: string; seconds: number }[];
  wallSeconds: number;
  /** The share of the whole machine that was busy (every core, any process). */
  machineBusy: number;
}

/** Starts counting; `stop()` returns what each process used since. `benchName` labels this
 * process's own CPU (the load generator). */
export async function watchCpu(suite: Pick<SuiteProcesses, 'processes' | 'databaseUrl'>, benchName = 'bench') {
  const names = new Map(suite.processes.map((p) => [p.pid, p.name]));
  const db = new pg.Client({ connectionString: suite.databaseUrl });
  await db.connect();
  const startTicks = new Map<number, number>();
  const lastTicks = new Map<number, { name: string; ticks: number }>();
  const machineStart = machineTicks();
  const benchStart = process.cpuUsage();
  const started = performance.now();
  let first = true;
  // The suite's processes are started before the watch and live through it: /proc is scanned
  // for them once, not every second (a scan reads every process's stat: about 1.5 % of what
  // case c of bench:import can give the hashes).
  const suiteProcesses = children(names);
  const sample = async () => {
    const pids = new Map(suiteProcesses);
    const { rows } = await db.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
    );
    for (const { pid } of rows) pids.set(pid, 'PostgreSQL');
    for (const [pid, name] of pids) {
      const ticks = cpuTicks(pid);
      if (ticks === undefined) continue;
      // A process first seen after the start spent all its CPU within the run.
      if (!startTicks.has(pid)) startTicks.set(pid, first ? ticks : 0);
      lastTicks.set(pid, { name, ticks });
    }
    first = false;
  };
  await sample();
  const timer = setInterval(() => void sample().catch(() => {}), 1000);
  return {
    async stop(): Promise<CpuUsage> {
      clearInterval(timer);
      await sample();
      await db.end();
      const wallSeconds = (performance.now() - started) / 1000;
      const byName = new Map<string, number>();
      for (const [pid, { name, ticks }] of lastTicks) {
        byName.set(name, (byName.get(name) ?? 0) + (ticks - startTicks.get(pid)!) / TICKS_PER_SECOND);
      }
      const bench = process.cpuUsage(benchStart);
      byName.set(benchName, (bench.user + bench.system) / 1e6);
      const machineEnd = machineTicks();
      const machineBusy = (machineEnd.busy - machineStart.busy) / (machineEnd.total - machineStart.total);
      const rows = [...byName].map(([name, seconds]) => ({ name, seconds })).sort((a, b) => b.seconds - a.seconds);
      return { rows, wallSeconds, machineBusy };
    },
  };
}

/** One line per process: its CPU seconds, its share of a core and its CPU per unit of work
 * (`per` units, named `unit`, e.g. 100,000 "row" → µs a row). */
export function cpuLines(usage: CpuUsage, per: number, unit: string, scale: 'ms' | 'µs' = 'ms'): string[] {
  const factor = scale === 'ms' ? 1e3 : 1e6;
  const total = usage.rows.reduce((sum, r) => sum + r.seconds, 0);
  return [
    `CPU over the ${usage.wallSeconds.toFixed(1)} s measured (machine busy ${(usage.machineBusy * 100).toFixed(0)} % of ${os.availableParallelism()} cores):`,
    ...usage.rows
      .filter((r) => r.seconds >= 0.05)
      .map(
        (r) =>
          `  ${r.name.padEnd(20)} ${r.seconds.toFixed(1).padStart(6)} s  ${((r.seconds / usage.wallSeconds) * 100).toFixed(0).padStart(4)} % of a core  ` +
          `${((r.seconds / per) * factor).toFixed(2)} ${scale} a ${unit}`,
      ),
    `  ${'all'.padEnd(20)} ${total.toFixed(1).padStart(6)} s  ${((total / usage.wallSeconds) * 100).toFixed(0).padStart(4)} % of a core  ${((total / per) * factor).toFixed(2)} ${scale} a ${unit}`,
  ];
}
