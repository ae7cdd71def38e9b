/**
 * Per-runbook metrics, counted as each workflow run starts and ends (workflow interceptor, so no workflow carries
 * the code), and the gates' own. The SDK labels each with the workflow type and drops metrics emitted while a
 * history replays, so a run is counted once however often a worker rebuilds it. A run that continues as new is
 * not a completion: its next run counts as started again.
 */
import {
  ContinueAsNew,
  metricMeter,
  type Next,
  type WorkflowExecuteInput,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInterceptorsFactory,
} from '@temporalio/workflow';
import { METRICS } from '../contracts/metrics';

type Counter = (typeof METRICS)[keyof typeof METRICS];
const count = (m: Counter, tags: Record<string, string> = {}) =>
  metricMeter.createCounter(m.name, m.unit, m.help).add(1, tags);
const seconds = (m: Counter, value: number, tags: Record<string, string>) =>
  metricMeter.createHistogram(m.name, 'float', m.unit, m.help).record(Math.max(0, value), tags);

class RunbookMetrics implements WorkflowInboundCallsInterceptor {
  async execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>) {
    count(METRICS.runsStarted);
    const startedMs = Date.now();
    try {
      const result: unknown = await next(input);
      count(METRICS.runsCompleted);
      return result;
    } catch (err) {
      if (!(err instanceof ContinueAsNew)) count(METRICS.runsFailed);
      throw err;
    } finally {
      seconds(METRICS.runDuration, (Date.now() - startedMs) / 1000, {});
    }
  }
}

export const interceptors: WorkflowInterceptorsFactory = () => ({ inbound: [new RunbookMetrics()] });

/** An escalation tier told (a gate's deadline or a stage's passed). */
export const countEscalation = (tier: number) => count(METRICS.escalations, { tier: String(tier) });

/** A gate opened; with the gate-wait histogram's count (decided gates) it gives the gates waiting. */
export const countGateOpened = (gate: string) => count(METRICS.gatesOpened, { gate });

/** How long a gate waited for its decision, by gate and decision. */
export const recordGateWait = (gate: string, decision: string, waitedSeconds: number) =>
  seconds(METRICS.gateWait, waitedSeconds, { gate, decision });
