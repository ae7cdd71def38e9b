/**
 * weddingDayCrisis as runs started before PLATFORM_SCOPE_PATCH take it: one wedding and crisis type per run,
 * workflow ID wedding-crisis-<weddingId>-<crisisType>. Kept unchanged so their histories replay.
 */
import { patched, setHandler, workflowInfo } from '@temporalio/workflow';
import { invalidInput } from '../../contracts/failures';
import { parseInput } from '../../contracts/input';
import { AuditTrail } from '../gates/audit-trail';
import { Gatekeeper } from '../gates/gatekeeper';
import { loadDirectory } from '../policies';
import { LOCAL_FIRST_PATCH, PATH_DECIDED_FIRST_PATCH } from './local-first';
import {
  crisisStatusQuery,
  legacyCrisisInputSchema,
  legacyCrisisWorkflowId,
  type CrisisResult,
  type LegacyCrisisInput,
} from './messages';
import { runUntilResolved } from './resolution';
import { CrisisRun } from './run';
import {
  FOLLOW_UP,
  STAGE1_STEPS,
  stage1ByActivities,
  stage1LocalFirst,
  stage2ByActivities,
  stage2LocalFirst,
} from './stages';

export async function legacyWeddingDayCrisis(rawInput: LegacyCrisisInput): Promise<CrisisResult> {
  const input = parseInput(legacyCrisisInputSchema, rawInput, 'weddingDayCrisis');
  const info = workflowInfo();
  const expectedId = legacyCrisisWorkflowId(input);
  if (info.workflowId !== expectedId) {
    // The ID is what makes a second start for the same crisis be refused; any other ID would allow duplicates.
    throw invalidInput('workflowId', `must be "${expectedId}" for this wedding and crisis type`);
  }
  // Which path the protocol takes is decided before the first await (PATH_DECIDED_FIRST_PATCH): see local-first.ts.
  const decidedFirst = patched(PATH_DECIDED_FIRST_PATCH);
  const crisisKey = info.workflowId;
  const audit = new AuditTrail();
  const gates = new Gatekeeper(audit, crisisKey);
  const run = new CrisisRun(input, crisisKey, audit, gates, Date.now(), [
    ...STAGE1_STEPS,
    ...FOLLOW_UP.map((f) => f.action),
  ]);
  setHandler(crisisStatusQuery, () => run.status());

  run.event(
    `crisis opened: ${input.crisisType} at ${input.weddingId}${input.description ? ` (${input.description})` : ''}`,
  );
  audit.record({
    step: 'crisis',
    actor: input.reportedBy ?? 'workflow',
    action: 'opened',
    outcome: 'open',
    reason: input.description,
    details: { weddingId: input.weddingId, crisisType: input.crisisType },
  });
  gates.setRoster((await loadDirectory()).members);

  const protocol = async () => {
    const localFirst = decidedFirst || patched(LOCAL_FIRST_PATCH);
    await run.stage('stage1', localFirst ? stage1LocalFirst(run) : stage1ByActivities(run));
    run.state.stage = 'stage2';
    await run.stage('stage2', localFirst ? stage2LocalFirst(run) : stage2ByActivities(run));
    run.state.stage = 'awaiting-resolution';
  };

  // Telling the first tier runs beside stage 1: the protocol's own alert must not wait for it.
  const firstAlert = run.tell(0, `${input.crisisType} at ${input.weddingId}; emergency protocol started`);
  return runUntilResolved(run, protocol, firstAlert);
}
