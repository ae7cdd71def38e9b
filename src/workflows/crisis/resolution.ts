/**
 * The end of every crisis: it is over when an authorised person resolves it at the gate `resolve`, whatever the
 * protocol's stages are doing then; steps still running are cancelled and the alerts paged are resolved.
 */
import { CancellationScope, isCancellation } from '@temporalio/workflow';
import type { CrisisResult } from './messages';
import type { CrisisRun } from './run';
import type { GatePolicy } from './stages';

const RESOLVERS = { roles: ['wedding-day-support', 'ai-ops', 'cto'] };

/** Starts the protocol in a scope a resolution can cancel, waits for the resolution, and closes the crisis. */
export async function runUntilResolved(
  run: CrisisRun,
  protocol: () => Promise<void>,
  firstAlert: Promise<void>,
  policy?: GatePolicy,
  /** Work done once the protocol is under way and before the gate opens (loading the roster). */
  meanwhile?: () => Promise<void>,
): Promise<CrisisResult> {
  const { state, gates, audit, crisisKey } = run;
  const protocolScope = new CancellationScope();
  const protocolRun = protocolScope.run(protocol);
  protocolRun.catch(() => undefined); // awaited below; a resolution may cancel it first
  // Only when given: even an await of nothing lets other coroutines run first, reordering older runs' commands.
  if (meanwhile) await meanwhile();

  let resolution;
  for (;;) {
    resolution = await gates.wait({
      name: 'resolve',
      prompt: `Resolve wedding-day crisis ${crisisKey}`,
      deciders: RESOLVERS,
      ...policy,
    });
    if (resolution.decision === 'approve') break;
    run.event(`resolution refused by ${resolution.by}: ${resolution.reason}`);
  }
  if (state.stage !== 'awaiting-resolution') {
    run.event('resolved before the protocol finished: remaining steps cancelled');
    protocolScope.cancel();
  }
  try {
    await protocolRun;
  } catch (err) {
    if (!isCancellation(err)) throw err;
  }

  await firstAlert;
  state.stage = 'resolved';
  run.event(`resolved by ${resolution.by}: ${resolution.reason}`);
  audit.record({
    step: 'crisis',
    actor: resolution.by,
    action: 'resolved',
    outcome: 'resolved',
    reason: resolution.reason,
    durationMs: Date.now() - run.startedMs,
  });
  // Bounded retries: a wrong URL must not keep a resolved crisis open.
  const unresolved = await CancellationScope.nonCancellable(() =>
    gates.pager.update('resolve', `crisis ${crisisKey} resolved`),
  );
  for (const reason of unresolved) run.event(`PagerDuty resolve failed; resolve the alert by hand: ${reason}`);
  await gates.settled();
  await audit.flush();
  const { stage: _stage, ...rest } = state;
  return {
    ...rest,
    elapsedMs: Date.now() - run.startedMs,
    resolvedBy: resolution.by,
    resolution: resolution.reason,
    resolvedAt: new Date().toISOString(),
  };
}
