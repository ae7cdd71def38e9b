/** monitorUntilHealthy's input, status query and result. */
import { defineQuery } from '@temporalio/workflow';
import { optionalObject, parseInput, wholeNumber, type z } from '../../../contracts/input';

/**
 * Most rounds one run may make. A round costs about a dozen history events with one endpoint, so this keeps a
 * run far below Temporal's 51,200-event limit (a 1-second interval for 30 days would reach it in about 4,500).
 */
export const MAX_MONITOR_ROUNDS = 1000;

export const monitorInputSchema = optionalObject({
  /** Seconds between rounds of probes. */
  intervalSeconds: wholeNumber(1, 86_400).default(300),
  /** Consecutive healthy rounds that count as resolved. */
  healthyChecksRequired: wholeNumber(1, 1_000).default(3),
  /** Give up after this many seconds; 4 hours by default. */
  timeoutSeconds: wholeNumber(1, 30 * 86_400).default(4 * 3600),
}).superRefine((input, ctx) => {
  if (input.timeoutSeconds / input.intervalSeconds > MAX_MONITOR_ROUNDS) {
    ctx.addIssue({
      code: 'custom',
      path: ['timeoutSeconds'],
      message: `allows ${Math.floor(input.timeoutSeconds / input.intervalSeconds)} rounds at intervalSeconds ${input.intervalSeconds}; at most ${MAX_MONITOR_ROUNDS}: lengthen the interval or shorten the watch`,
    });
  }
});
export type MonitorInput = z.input<typeof monitorInputSchema>;

export const parseMonitorInput = (raw: unknown) => parseInput(monitorInputSchema, raw, 'monitorUntilHealthy');

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
