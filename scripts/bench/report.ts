/** What the benchmarks share: Markdown tables (they paste into the README as printed) and memory probes. */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';

export function printTable(rows: string[][]): void {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) => `| ${r.map((cell, c) => (cell ?? '').padEnd(widths[c])).join(' | ')} |`;
  process.stdout.write(
    `\n${line(rows[0])}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|\n${rows.slice(1).map(line).join('\n')}\n`,
  );
}

/** The value below which p % of the sorted values lie (nearest rank). */
export const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;

export const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

/** The middle value (the mean of the two middle ones for an even count): one noisy round does not move it. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

export const progress = (name: string) => (message: string) => process.stderr.write(`[bench ${name}] ${message}\n`);

export interface RssSample {
  startRss: number;
  peakRss: number;
}

/** Samples this process's RSS until stopped; returns the peak and the value when sampling began. */
export function rssSampler(everyMs = 20): { stop(): RssSample } {
  const startRss = process.memoryUsage().rss;
  let peakRss = startRss;
  const timer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), everyMs);
  return {
    stop() {
      clearInterval(timer);
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      return { startRss, peakRss };
    },
  };
}

export type MemoryFigures = Pick<NodeJS.MemoryUsage, 'rss' | 'heapUsed' | 'external' | 'arrayBuffers'>;

export interface MemorySample {
  /** The figures when sampling began, and each one's largest value while it ran (not one sample's). */
  start: MemoryFigures;
  peak: MemoryFigures;
  /** Every sample, ms since the start, when asked for. */
  trace?: (MemoryFigures & { ms: number })[];
}

/**
 * Samples this process's memory until stopped: RSS every 20 ms, and every `everyMs` also what V8 holds (heapUsed)
 * and what lies outside its heap (external, of which arrayBuffers are Buffers' bytes), to tell where RSS goes.
 */
export function memorySampler(everyMs = 200, keepTrace = false): { stop(): MemorySample } {
  const pick = ({ rss, heapUsed, external, arrayBuffers }: NodeJS.MemoryUsage): MemoryFigures => ({
    rss,
    heapUsed,
    external,
    arrayBuffers,
  });
  const t0 = performance.now();
  const start = pick(process.memoryUsage());
  const peak = { ...start };
  const trace: MemorySample['trace'] = keepTrace ? [{ ms: 0, ...start }] : undefined;
  const full = () => {
    const now = pick(process.memoryUsage());
    for (const k of Object.keys(peak) as (keyof MemoryFigures)[]) peak[k] = Math.max(peak[k], now[k]);
    trace?.push({ ms: Math.round(performance.now() - t0), ...now });
  };
  const fast = setInterval(() => (peak.rss = Math.max(peak.rss, process.memoryUsage.rss())), 20);
  const slow = setInterval(full, everyMs);
  return {
    stop() {
      clearInterval(fast);
      clearInterval(slow);
      full();
      return { start, peak, trace };
    },
  };
}

/**
 * Runs a shell pipeline under /usr/bin/time -v; resolves to wall time and the largest process's peak RSS.
 * Asynchronous on purpose: the benchmark's own concurrent writer must keep running while it waits.
 */
export function timeShell(script: string): Promise<{ ms: number; maxRssBytes?: number; cpuSeconds?: number }> {
  const timed = existsSync('/usr/bin/time');
  const t0 = performance.now();
  const child = timed ? spawn('/usr/bin/time', ['-v', 'sh', '-c', script]) : spawn('sh', ['-c', script]);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8000)));
  child.stdout.resume();
  return new Promise((resolve, reject) =>
    child.on('exit', (code) => {
      const ms = performance.now() - t0;
      if (code !== 0) return reject(new Error(`"${script}" exited ${code}: ${stderr.slice(-2000)}`));
      const kb = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)?.[1];
      const user = /User time \(seconds\): ([\d.]+)/.exec(stderr)?.[1];
      const system = /System time \(seconds\): ([\d.]+)/.exec(stderr)?.[1];
      resolve({
        ms,
        maxRssBytes: kb ? Number(kb) * 1024 : undefined,
        // The shell and everything it ran (their children are waited for, so their CPU is counted).
        cpuSeconds: user && system ? Number(user) + Number(system) : undefined,
      });
    }),
  );
}

/** A command-line mistake: reported by its message alone, with the usage hint, not a stack trace. */
export class UsageError extends Error {}

/** Ends a benchmark that failed: a usage mistake in one line, anything else with its stack. */
export function exitFailed(err: unknown): never {
  process.stderr.write(
    err instanceof UsageError
      ? `bench: ${err.message} (--help shows the options)\n`
      : `bench failed: ${err instanceof Error ? err.stack : String(err)}\n`,
  );
  process.exit(1);
}

/** A whole-number `--name N` option of the bench command line, at least `min`. */
export function flag(name: string): number | undefined;
export function flag(name: string, fallback: number, min?: number): number;
export function flag(name: string, fallback?: number, min = 1): number | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const n = Number(process.argv[i + 1]);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name}: must be a whole number of at least ${min}`);
  return n;
}

/** `p50 / p99 / max ms` of sorted latencies, or `n/a` when there are none. */
export const latencySummary = (sorted: number[]) =>
  sorted.length === 0
    ? 'n/a'
    : `${[50, 99].map((p) => percentile(sorted, p).toFixed(1)).join(' / ')} / ${sorted.at(-1)!.toFixed(1)} ms`;

/** The samples `pick` gives of each run, pooled in one sorted array (latencies over the rounds of a side). */
export const pooled = <R>(runs: R[], pick: (run: R) => number[]): number[] => runs.flatMap(pick).sort((a, b) => a - b);

/** Live traffic's p99 during the runs over its p99 in the idle second before each, as `1.20×`. */
export const p99OverIdle = (during: number[], idle: number[]): string =>
  `${(percentile(during, 99) / percentile(idle, 99)).toFixed(2)}×`;

/** `median (min-max)` of durations in ms, shown in seconds. */
export function secondsSpread(values: number[]): string {
  const s = (ms: number) => (ms / 1000).toFixed(2);
  return `${s(median(values))} s (${s(Math.min(...values))}-${s(Math.max(...values))})`;
}

/**
 * The rounds' order for sides A, B, C...: a warm-up round first (discarded), then A B C, C B A, A B C, ... so that
 * no side always goes first or last (ABBA, for any number of sides).
 */
export function abbaOrder<T>(sides: T[], rounds: number): { round: number; side: T }[] {
  const order: { round: number; side: T }[] = sides.map((side) => ({ round: 0, side }));
  for (let round = 1; round <= rounds; round++) {
    for (const side of round % 2 ? sides : [...sides].reverse()) order.push({ round, side });
  }
  return order;
}

/** User + system CPU a process has used so far, with its children that have ended, from /proc (100 ticks/s). */
export function ownCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
    .replace(/^.*\) /, '')
    .split(' ');
  return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) * 10;
}

/**
 * CPU of a service and its running children: PostgreSQL does its work in one backend process per connection,
 * and a backend that ends is counted in the postmaster's children's time.
 */
export function treeCpuMs(pid: number): number {
  let total = ownCpuMs(pid);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.replace(/^.*\) /, '').split(' ')[1]) === pid) total += ownCpuMs(Number(entry));
    } catch {
      // Ended between the listing and the read.
    }
  }
  return total;
}

/** CPU time every process on the machine has used since boot (/proc/stat: all but idle and I/O wait). */
export function machineBusyMs(): number {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
  return (ticks.slice(0, 8).reduce((a, b) => a + b, 0) - ticks[3] - ticks[4]) * 10;
}
