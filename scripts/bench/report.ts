/** What the maintenance benchmarks share: Markdown tables (they paste into the README as printed) and memory probes. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export function printTable(rows: string[][]): void {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) => `| ${r.map((cell, c) => (cell ?? '').padEnd(widths[c])).join(' | ')} |`;
  process.stdout.write(`\n${line(rows[0])}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|\n${rows.slice(1).map(line).join('\n')}\n`);
}

export const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

export const progress = (name: string) => (message: string) => process.stderr.write(`[bench ${name}] ${message}\n`);

/** Samples this process's RSS until stopped; returns the peak and the value when sampling began. */
export function rssSampler(everyMs = 20): { stop(): { startRss: number; peakRss: number } } {
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

/** Runs a shell pipeline under /usr/bin/time -v; returns wall time and the largest process's peak RSS. */
export function timeShell(script: string): { ms: number; maxRssBytes?: number; stderr: string } {
  const timed = existsSync('/usr/bin/time');
  const t0 = performance.now();
  const run = timed
    ? spawnSync('/usr/bin/time', ['-v', 'sh', '-c', script], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
    : spawnSync('sh', ['-c', script], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const ms = performance.now() - t0;
  if (run.status !== 0) throw new Error(`"${script}" exited ${run.status}: ${run.stderr.slice(-2000)}`);
  const kb = /Maximum resident set size \(kbytes\): (\d+)/.exec(run.stderr)?.[1];
  return { ms, maxRssBytes: kb ? Number(kb) * 1024 : undefined, stderr: run.stderr };
}
