/**
 * `npm start`: sets up and starts everything (the stack, the worker, the schedules), prints where things
 * are, and runs until Ctrl-C or SIGTERM, which stop everything it started and everything it adopted from an
 * earlier start. The handlers are in place before anything starts, so an interrupt during the start-up (the
 * first one builds for minutes) stops what was started so far. State lives under .data/.
 */
import { relative } from 'node:path';
import { SCHEDULES } from '../src/schedules/table';
import { catchInterrupts, Interrupted, signalExitCode } from './lib/interrupt';
import { ROOT } from './lib/paths';
import { bringUp, claimStart, runningStart } from './lib/session';
import { localClusterEnv } from './lib/kube-local';
import { LOCAL_PORTS } from './lib/local-stack';

const HELP = `Usage: npm start

Installs what is missing (Temporal CLI, MinIO, PostgreSQL, Redis, etcd and kube-apiserver), starts them on
127.0.0.1 with state under .data/, creates the database schema with demo data, the buckets and the demo
cluster objects, starts the worker, registers the schedules, and runs until Ctrl-C (or SIGTERM), which stops
all of it, services left running by an earlier start included. Set TEMPORAL_ADDRESS, DATABASE_URL, REDIS_URL,
S3_ENDPOINT or KUBECONFIG to use an existing server instead of starting one. The local stack's settings are
written to .data/local-stack.json for the commands run in other shells. See README.md.
`;

async function main(): Promise<number> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(HELP);
    return 0;
  }
  const interrupted = catchInterrupts((signal) => process.stdout.write(`\n${signal}: stopping...\n`));
  const other = runningStart();
  if (other) throw new Error(`npm start is already running (pid ${other}); stop it with Ctrl-C first`);
  const claim = claimStart();
  try {
    return await run(interrupted);
  } finally {
    claim.release();
  }
}

async function run(interrupted: Promise<NodeJS.Signals>): Promise<number> {
  const started = Date.now();
  let session;
  try {
    session = await bringUp({ adopt: true });
  } catch (err) {
    if (!(err instanceof Interrupted)) throw err;
    process.stdout.write('stopped during start-up; everything it had started is stopped, state is kept in .data/\n');
    return signalExitCode(err.signal);
  }
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
  Prometheus        http://127.0.0.1:${LOCAL_PORTS.prometheus}  (rules in monitoring/rules; the worker's metrics: ${config.worker.metricsAddress ? `http://${config.worker.metricsAddress}/metrics` : 'WORKER_METRICS_ADDRESS not set'})
  Alertmanager      http://127.0.0.1:${LOCAL_PORTS.alertmanager}  → ${config.alerts ? `http://${config.alerts.host}:${config.alerts.port}/alerts/alertmanager` : 'ALERT_RECEIVER_ADDRESS not set'}
  Kubernetes        ${localKubeconfig ? `kubeconfig ${relative(ROOT, localKubeconfig)}, namespace ${config.kubernetes.aiNamespace}` : 'the cluster of KUBECONFIG / in-cluster credentials'}
  Schedules
${schedules}

Start a first workflow:
  ${cli} workflow execute --type morningHealthCheck --task-queue ${config.temporal.taskQueue} \\
    --workflow-id health-check-$(date +%s) --input '{}'

Press Ctrl-C to stop everything.
`);

  await interrupted;
  await session.stop();
  process.stdout.write('stopped; state is kept in .data/\n');
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`start failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
