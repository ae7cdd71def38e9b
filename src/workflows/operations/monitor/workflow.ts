/**
 * "Monitor for resolution", seed 000 Alert Response Checklist step 5: after a fix, probe the service's health
 * endpoints every interval until they have been healthy for N checks in a row, or give up at the deadline.
 * Incident response runs this as a child workflow; operators can start it on its own.
 *
 * Input example (`temporal workflow start --type monitorUntilHealthy --task-queue aiops-runbooks --input '...'`):
 *   {"intervalSeconds": 300, "healthyChecksRequired": 3, "timeoutSeconds": 14400}
 */
import { setHandler, sleep } from '@temporalio/workflow';
import { isHealthyProbe } from '../../../contracts/health';
import { settle } from '../../common/settle';
import { probes } from '../../policies';
import { monitorStatusQuery, parseMonitorInput, type MonitorInput, type MonitorState } from './messages';

/** Rounds kept in the state; older ones are dropped so a long watch keeps a small history. */
const MAX_ROUNDS_KEPT = 50;

export async function monitorUntilHealthy(rawInput: MonitorInput = {}): Promise<MonitorState> {
  const { intervalSeconds, healthyChecksRequired, timeoutSeconds } = parseMonitorInput(rawInput);

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
      .filter((r) => r.check.state !== 'ok' || !isHealthyProbe(r.check.result))
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
