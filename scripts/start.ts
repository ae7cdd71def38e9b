/**
 * `npm start`: sets up and starts everything (the stack, the worker, the schedules), prints where things
 * are, and runs until Ctrl-C, which stops everything it started. State lives under .data/.
 */
import { relative } from 'node:path';
import { SCHEDULES } from '../src/schedules/table';
import { ROOT } from './lib/paths';
import { bringUp, runningSession } from './lib/session';
import { localClusterEnv } from './lib/kube-local';

const HELP = `Usage: npm start

Installs what is missing (Temporal CLI, MinIO, PostgreSQL, Redis, etcd and kube-apiserver), starts them on
127.0.0.1 with state under .data/, creates the database schema with demo data, the buckets and the demo
cluster objects, starts the worker, registers the schedules, and runs until Ctrl-C. Set TEMPORAL_ADDRESS,
DATABASE_URL, REDIS_URL, S3_ENDPOINT or KUBECONFIG to use an existing server instead of starting one.
See README.md.
`;

async function main(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(HELP);
    return;
  }
  const other = runningSession();
  if (other) throw new Error(`npm start is already running (pid ${other.pid}); stop it with Ctrl-C first`);

  const started = Date.now();
  const session = await bringUp();
  const { config, info } = session;
  const cli = info.temporalCli.startsWith(ROOT) ? relative(ROOT, info.temporalCli) : info.temporalCli;
  const localKubeconfig = localClusterEnv().KUBECONFIG;
  const schedules = info.schedules
    .map((r) => {
      const def = SCHEDULES.find((s) => s.scheduleId === r.scheduleId)!;
      return `    ${r.scheduleId}  ${def.cron} ${def.timezone}  (${r.outcome})`;
    })
    .join('\n');
  process.stdout.write(`
aiops-runbooks is up (${((Date.now() - started) / 1000).toFixed(1)}s).
  Temporal Web UI   ${config.temporal.uiUrl ?? '(TEMPORAL_UI_URL not set)'}
  Temporal          ${config.temporal.address}  namespace ${config.temporal.namespace}, task queue ${config.temporal.taskQueue}
  Kubernetes        ${localKubeconfig ? `kubeconfig ${relative(ROOT, localKubeconfig)}, namespace ${config.kubernetes.aiNamespace}` : 'the cluster of KUBECONFIG / in-cluster credentials'}
  Schedules
${schedules}

Start a first workflow:
  ${cli} workflow execute --type morningHealthCheck --task-queue ${config.temporal.taskQueue} \\
    --workflow-id health-check-$(date +%s) --input '{}'

Press Ctrl-C to stop everything.
`);

  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.stdout.write(`\n${signal}: stopping...\n`);
      resolve();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  await session.stop();
  process.stdout.write('stopped; state is kept in .data/\n');
}

main().catch((err) => {
  process.stderr.write(`start failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
