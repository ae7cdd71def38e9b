/**
 * The worker's logs and metrics. Every log line is one JSON object; lines from workflows and activities carry the
 * SDK's context (workflow ID, run ID, workflow type, and for activities the activity type and attempt), so a line
 * found in a log store leads to its run. Metrics: the SDK's own (workflow and activity task latencies, activity
 * execution latency by activity type: the step durations) and ours (src/workflows/metrics.ts, notifications),
 * served for Prometheus on WORKER_METRICS_ADDRESS.
 */
import { DefaultLogger, Runtime, type LogEntry } from '@temporalio/worker';
import type { AppConfig } from '../config';
import { COUNTERS, LONG_WAIT_BUCKETS_SECONDS, METRICS } from '../contracts/metrics';

function plain(value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}

/** One log entry as one line of JSON. */
export function logLine(entry: LogEntry): string {
  const meta = Object.fromEntries(Object.entries(entry.meta ?? {}).map(([k, v]) => [k, plain(v)]));
  const time = new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString();
  return `${JSON.stringify({ time, level: entry.level.toLowerCase(), message: entry.message, ...meta })}\n`;
}

/** Installs the SDK runtime with JSON logs and, when configured, the Prometheus exporter; before any connection. */
export function installTelemetry(config: AppConfig, write: (line: string) => void = (l) => process.stdout.write(l)) {
  const metricsAddress = config.worker.metricsAddress;
  Runtime.install({
    logger: new DefaultLogger('INFO', (entry) => write(logLine(entry))),
    telemetryOptions: {
      // The SDK core's own lines (Rust) go through the same logger, so they are JSON lines too.
      logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} },
      ...(metricsAddress && {
        metrics: {
          prometheus: {
            bindAddress: metricsAddress,
            countersTotalSuffix: true,
            useSecondsForDurations: true,
            histogramBucketOverrides: {
              [METRICS.gateWait.name]: LONG_WAIT_BUCKETS_SECONDS,
              [METRICS.runDuration.name]: LONG_WAIT_BUCKETS_SECONDS,
            },
          },
        },
      }),
    },
  });
  // Every counter exists from the start, at zero: a rule or panel asking for it finds a series, not nothing.
  if (metricsAddress) {
    for (const c of COUNTERS) Runtime.instance().metricMeter.createCounter(c.name, c.unit, c.help).add(0);
  }
}
