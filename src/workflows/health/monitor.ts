/**
 * "Monitor for resolution", seed 000 Alert Response Checklist step 5: after a fix, probe the service's health
 * endpoints every interval until they have been healthy for N checks in a row, or give up at the deadline.
 * Incident response runs this as a child workflow; operators can start it on its own.
 *
 * Input example (`temporal workflow start --type monitorUntilHealthy --task-queue aiops-runbooks --input '...'`):
 *   {"intervalSeconds": 300, "healthyChecksRequired": 3, "timeoutSeconds": 14400}
 */
import { defineQuery, setHandler, sleep } from '@temporalio/workflow';
import { invalidInput } from '../../common/failures';
import { probes } from './activities';
import { settle } from './settle';

export interface MonitorInput {
  /** Seconds between rounds of probes; default 300. */
  intervalSeconds?: number;
  /** Consecutive healthy rounds that count as resolved; default 3. */
  healthyChecksRequired?: number;
  /** Give up after this many seconds; default 4 hours. */
  timeoutSeconds?: number;
}

export interface MonitorRound {
  at: string;
  healthy: boolean;
  /** Endpoints that failed or did not report healthy in this round. */
  unhealthy: string[];
}

export interface MonitorState {
  resolved: boolean;
  finished: boolean;
  consecutiveHealthy: number;
  healthyChecksRequired: number;
  deadline: string;
  rounds: MonitorRound[];
}

export const monitorStatusQuery = defineQuery<MonitorState>('status');

/** Rounds kept in the state; older ones are dropped so a long watch keeps a small history. */
const MAX_ROUNDS_KEPT = 50;

function field(input: Record<string, unknown>, name: keyof MonitorInput, fallback: number, max: number): number {
  const value = input[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw invalidInput(name, `must be a whole number from 1 to ${max}`);
  }
  return value;
}

export async function monitorUntilHealthy(rawInput: MonitorInput = {}): Promise<MonitorState> {
  const input = (rawInput ?? {}) as Record<string, unknown>;
  const intervalSeconds = field(input, 'intervalSeconds', 300, 86_400);
  const healthyChecksRequired = field(input, 'healthyChecksRequired', 3, 1_000);
  const timeoutSeconds = field(input, 'timeoutSeconds', 4 * 3600, 30 * 86_400);

  const startedAt = Date.now();
  const deadline = startedAt + timeoutSeconds * 1000;
  const state: MonitorState = {
    resolved: false,
    finished: false,
    consecutiveHealthy: 0,
    healthyChecksRequired,
    deadline: new Date(deadline).toISOString(),
    rounds: [],
  };
  setHandler(monitorStatusQuery, () => state);

  const urls = await probes.listHealthEndpoints();
  // Rounds run on a fixed cadence from the start, so slow probes do not stretch the interval.
  for (let round = 1; ; round++) {
    const results = await Promise.all(urls.map(async (url) => ({ url, check: await settle(probes.probeHealth(url)) })));
    const unhealthy = results
      .filter((r) => r.check.state !== 'ok' || r.check.result.status.toLowerCase() !== 'healthy')
      .map((r) => r.url);
    const healthy = urls.length > 0 && unhealthy.length === 0;
    state.rounds.push({ at: new Date().toISOString(), healthy, unhealthy });
    if (state.rounds.length > MAX_ROUNDS_KEPT) state.rounds.shift();
    state.consecutiveHealthy = healthy ? state.consecutiveHealthy + 1 : 0;

    if (state.consecutiveHealthy >= healthyChecksRequired) {
      state.resolved = true;
      break;
    }
    const nextRoundAt = startedAt + round * intervalSeconds * 1000;
    if (nextRoundAt > deadline) break;
    await sleep(Math.max(1, nextRoundAt - Date.now()));
  }
  state.finished = true;
  return state;
}
