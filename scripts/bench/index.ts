/**
 * `npm run bench [-- crisis|purge|retention|backup|alerts|ab|extract] [flags]`: runs every benchmark, or those whose name contains the
 * filter, one process each so that one's memory and connections do not colour the next one's numbers.
 * Flags after the filter go to each benchmark (`npm run bench -- crisis --couples 1000 --burst 20`).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const BENCHMARKS = ['crisis', 'purge', 'retention', 'backup', 'alerts', 'ab', 'extract'];

function main(): number {
  const args = process.argv.slice(2);
  if (args.includes('--help') && args.length === 1) {
    process.stdout.write(
      `Usage: npm run bench [-- <filter>] [flags]\n\nBenchmarks: ${BENCHMARKS.join(', ')}. Each accepts --help.\n`,
    );
    return 0;
  }
  const filter = args[0] && !args[0].startsWith('--') ? args.shift() : undefined;
  const selected = BENCHMARKS.filter((b) => !filter || b.includes(filter));
  if (selected.length === 0) {
    process.stderr.write(`no benchmark matches "${filter}"; there are ${BENCHMARKS.join(', ')}\n`);
    return 1;
  }
  let failed = 0;
  for (const name of selected) {
    process.stdout.write(`\n## ${name}\n`);
    const run = spawnSync(process.execPath, [join(__dirname, `${name}.js`), ...args], { stdio: 'inherit' });
    if (run.status !== 0) failed++;
  }
  return failed ? 1 : 0;
}

process.exit(main());
