/**
 * `npm run bench -- alerts [--rate 200] [--seconds 60]`: alert to workflow started, at a sustained rate. Each
 * alert is one Alertmanager webhook to the receiver (src/alerts/receiver.ts), which answers once the incident's
 * signal-with-start has returned, i.e. once the workflow is started; the latency is from the moment the webhook
 * was due to leave to its final answer (a webhook answered 5xx is sent again, as Alertmanager does), so a sender
 * that falls behind counts against us. The baseline is the floor:
 * the same signal-with-start sent straight from a client at the same rate. ABBA order after a discarded warm-up;
 * each round's workflows are counted on the server afterwards and must be exactly one per alert.
 * Runs against a Temporal dev server of its own (SQLite file, the stack's pragmas) with no worker on the bench's
 * task queues: the workflows are started, not run, so the figure is the intake's alone.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { deliverAlert } from '../../src/alerts/deliver';
import { startAlertReceiver } from '../../src/alerts/receiver';
import { routeAlert } from '../../src/alerts/routes';
import type { WebhookAlert } from '../../src/alerts/webhook';
import { ensureTemporalCli } from '../lib/tools';
import { exitFailed, flag, median, percentile, printTable, progress } from './report';

const say = progress('alerts');
const TOKEN = 'bench-alert-token-0123456789';

function alertFor(fingerprint: string): WebhookAlert {
  return {
    status: 'firing',
    labels: { alertname: 'WedSyncErrorRateHigh', service: 'ai-optimization-engine', severity: 'P1' },
    annotations: { summary: 'Optimization error rate 20% is over 1%' },
    startsAt: new Date().toISOString(),
    fingerprint,
  };
}

interface Round {
  side: 'baseline' | 'ours';
  latencies: number[];
  failed: number;
  seconds: number;
  counted: number;
  expected: number;
}

/** Sends `rate` alerts a second for `seconds`, each through `send`, without waiting for one before the next. */
async function drive(rate: number, seconds: number, send: (a: WebhookAlert) => Promise<void>) {
  const total = rate * seconds;
  const latencies: number[] = [];
  let failed = 0;
  const t0 = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const alert = alertFor(randomBytes(8).toString('hex'));
    inFlight.push(
      send(alert).then(
        () => void latencies.push(performance.now() - due),
        () => void failed++,
      ),
    );
  }
  await Promise.all(inFlight);
  return { latencies: latencies.sort((a, b) => a - b), failed, seconds: (performance.now() - t0) / 1000 };
}

async function main(): Promise<void> {
  if (process.argv.includes('--help')) {
    process.stdout.write(
      'Usage: npm run bench -- alerts [--rate 200] [--seconds 60]\n\nAlert to workflow started at a sustained rate, through the Alertmanager receiver and straight\nfrom a client (the floor), ABBA; every round counted on the server.\n',
    );
    return;
  }
  const rate = flag('rate', 200);
  const seconds = flag('seconds', 60);
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const dir = mkdtempSync(join(tmpdir(), 'aiops-bench-alerts-'));
  say('starting a dev server of its own...');
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: await ensureTemporalCli() },
      dbFilename: join(dir, 'temporal.db'),
      // An overloaded server logs every slow call; the table says how it went.
      log: { format: 'pretty', level: 'error' },
      extraArgs: ['--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal'],
    },
  });
  try {
    const rounds: Round[] = [];
    let n = 0;
    const runRound = async (side: Round['side'], roundSeconds: number, keep: boolean) => {
      const taskQueue = `bench-alerts-${side}-${n++}`;
      const receiver = await startAlertReceiver({
        client: env.client,
        taskQueue,
        token: TOKEN,
        host: '127.0.0.1',
        port: 0,
        log: () => undefined,
      });
      // As Alertmanager does, a webhook answered 5xx is sent again; the alert's latency runs to the final answer.
      const viaReceiver = async (alert: WebhookAlert) => {
        for (let attempt = 1; ; attempt++) {
          const res = await fetch(receiver.url, {
            method: 'POST',
            headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
            body: JSON.stringify({ version: '4', status: 'firing', alerts: [alert] }),
          });
          await res.arrayBuffer();
          if (res.status === 200) return;
          if (res.status < 500 || attempt === 10) throw new Error(`HTTP ${res.status}`);
          await new Promise((r) => setTimeout(r, 100 * attempt));
        }
      };
      const direct = async (alert: WebhookAlert) => {
        await deliverAlert(env.client, taskQueue, alert, routeAlert(alert)!);
      };
      say(`${side}: ${rate} alerts/s for ${roundSeconds} s${keep ? '' : ' (warm-up)'}`);
      const result = await drive(rate, roundSeconds, side === 'ours' ? viaReceiver : direct);
      await receiver.close();
      if (!keep) return;
      const expected = rate * roundSeconds;
      const deadline = Date.now() + 120_000;
      let counted = 0;
      while (Date.now() < deadline) {
        // A server still catching up may refuse the count for a while: asked again until the deadline.
        counted = await env.client.workflow.count(`TaskQueue = '${taskQueue}'`).then(
          (c) => c.count,
          () => counted,
        );
        if (counted >= expected) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      rounds.push({ side, ...result, counted, expected });
    };
    await runRound('ours', Math.min(3, seconds), false);
    for (const side of ['baseline', 'ours', 'ours', 'baseline'] as const) await runRound(side, seconds, true);

    const rows = [['path', 'alerts', 'sent/s', 'p50', 'p99', 'max', 'failed', 'workflows counted']];
    const ms = (v: number) => `${v.toFixed(0)} ms`;
    for (const r of rounds) {
      const sent = r.latencies.length + r.failed;
      rows.push([
        r.side === 'ours' ? 'ours: Alertmanager webhook → receiver' : 'baseline: signal-with-start from a client',
        String(sent),
        (sent / r.seconds).toFixed(0),
        ms(percentile(r.latencies, 50)),
        ms(percentile(r.latencies, 99)),
        ms(r.latencies.at(-1) ?? NaN),
        String(r.failed),
        `${r.counted} of ${r.expected}${r.counted === r.expected ? '' : ' (MISMATCH)'}`,
      ]);
    }
    printTable(rows);
    const p99 = (side: Round['side']) =>
      median(rounds.filter((r) => r.side === side).map((r) => percentile(r.latencies, 99)));
    process.stdout.write(
      `\nMedian p99 over its two rounds: ours ${ms(p99('ours'))}, baseline ${ms(p99('baseline'))}; target under 1000 ms.\n`,
    );
    if (rounds.some((r) => r.counted !== r.expected || r.failed > 0)) {
      throw new Error('a round lost or duplicated alerts: the counts above do not match');
    }
  } finally {
    await env.teardown();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch(exitFailed);
