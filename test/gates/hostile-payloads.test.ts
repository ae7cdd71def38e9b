import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Client, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import fc from 'fast-check';
import { ROOT } from '../../scripts/lib/paths';
import { breachTaskReportSchema, type EvidenceManifest } from '../../src/contracts/breach';
import { dataBreachResponse, incidentResponse, maintenanceChecklist, weddingDayCrisis } from '../../src/workflows';
import { checklistStatusQuery } from '../../src/workflows/checklists/messages';
import { crisisAlertSignal, crisisStatusQuery, crisisWorkflowId } from '../../src/workflows/crisis/messages';
import {
  breachTaskSignal,
  dataBreachStatusQuery,
  reportBreachTaskUpdate,
} from '../../src/workflows/data-breach/messages';
import { decideUpdate, decisionSignal } from '../../src/workflows/gates/messages';
import {
  alertResolvedSignal,
  alertSignal,
  firingsOf,
  incidentStatusQuery,
  incidentWorkflowId,
} from '../../src/workflows/incident/messages';
import { overTheWire } from '../helpers/hostile';
import { runbookSuite } from '../helpers/runbook-suite';
import { queryUntil, replayOwnHistory, uniqueId } from '../helpers/temporal';

/** Fixed, so a failure is repeated by the next run; fast-check prints the counterexample it shrank to. */
const SEED = 20261125;

/** Anyone's id but a roster member's, so no generated decision can be a valid one. */
const stranger = fc.oneof(fc.constantFrom('', 'mallory', ' ', 'x'.repeat(5000)), fc.jsonValue());
const anyGate = fc.oneof(fc.constantFrom('resolve', 'acknowledge', 'analyze-cost-trends', 'nope', ''), fc.jsonValue());

/** JSON as a client can send it: anything, and things shaped like a decision with every field possibly wrong. */
const payload = fc.oneof(
  fc.jsonValue(),
  fc.record(
    {
      gate: anyGate,
      decision: fc.oneof(fc.constantFrom('approve', 'reject', 'maybe'), fc.jsonValue()),
      by: stranger,
      reason: fc.oneof(fc.string(), fc.constant('r'.repeat(100_000)), fc.jsonValue()),
      link: fc.jsonValue(),
      choice: fc.jsonValue(),
    },
    { requiredKeys: [] },
  ),
  // String() throws on these; a handler that formats them with it fails its workflow task.
  fc.constant({ gate: { toString: 1 }, by: { valueOf: 'x' }, decision: { toString: null } }),
);

/** An alert as Alertmanager's receiver sends it, with every field possibly wrong, and anything else. */
const alertPayload = fc.oneof(
  fc.jsonValue(),
  fc.record(
    {
      summary: fc.oneof(fc.string(), fc.constant('s'.repeat(100_000)), fc.jsonValue()),
      severity: fc.oneof(fc.constantFrom('P0', 'P9', ''), fc.jsonValue()),
      firings: fc.oneof(fc.constantFrom(0, -1, 1.5, 3, 1_000_000, 1_000_001, 2 ** 53, 1e308), fc.jsonValue()),
    },
    { requiredKeys: [] },
  ),
  fc.constant({ summary: { toString: 1 }, firings: { valueOf: 5 } }),
);

const resolutionPayload = fc.oneof(
  fc.jsonValue(),
  fc.record(
    {
      endsAt: fc.oneof(
        fc.constantFrom('+275760-09-13T00:00:00.000Z', '-271821-04-20T00:00:00.000Z', 'yesterday', '', '2026-02-30'),
        fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
        fc.jsonValue(),
      ),
    },
    { requiredKeys: [] },
  ),
);

/** Roster ids that may report a breach task (test/helpers: the local stack's roster); anyone else's is refused. */
const BREACH_REPORTERS = ['security', 'ai-lead'];

const taskReport = fc.oneof(
  fc.jsonValue(),
  fc.record(
    {
      task: fc.oneof(
        fc.constantFrom('rotate-credentials', 'notify-users', 'patch-everything', '__proto__'),
        fc.jsonValue(),
      ),
      by: fc.oneof(fc.constantFrom(...BREACH_REPORTERS, 'mallory', '', 'x'.repeat(101)), fc.jsonValue()),
      note: fc.oneof(fc.constantFrom('rotated, SEC-12', '', 'n'.repeat(2001), 'n'.repeat(100_000)), fc.string()),
      extra: fc.jsonValue(),
    },
    { requiredKeys: ['task', 'by', 'note'] },
  ),
  fc.constant(JSON.parse('{"task":"notify-users","by":"security","note":"x","__proto__":{"by":"mallory"}}') as unknown),
);

const hex = (length: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: length, maxLength: length });

/**
 * A decision from someone who may decide at `gate`, with its proof (signature, nonce, expiry) forged or malformed:
 * what reaches the workflow when a client does not sign, or signs with a key that is not theirs.
 */
const forgedDecision = (gate: string, by: string, nowMs: number) =>
  fc.record(
    {
      gate: fc.constant(gate),
      decision: fc.constantFrom('approve', 'reject'),
      by: fc.constant(by),
      reason: fc.constantFrom('forged', 'r'.repeat(2000)),
      signature: fc.oneof(hex(128), hex(64), fc.constant('A'.repeat(128)), fc.jsonValue()),
      nonce: fc.oneof(
        fc.string({ unit: fc.constantFrom(...'abcXYZ019_-'), minLength: 16, maxLength: 64 }),
        fc.jsonValue(),
      ),
      expiresAt: fc.oneof(
        fc.integer({ min: -7_200_000, max: 7_200_000 }).map((d) => new Date(nowMs + d).toISOString()),
        fc.constant('+275760-09-13T00:00:00.000Z'),
        fc.jsonValue(),
      ),
      link: fc.oneof(fc.constant('https://example.org/pm'), fc.jsonValue()),
    },
    { requiredKeys: ['gate', 'decision', 'by', 'reason', 'signature', 'nonce', 'expiresAt'] },
  );

/** Every signal and update name the workflows' messages define; each must be sent hostile payloads below. */
function definedSignalsAndUpdates(): string[] {
  const messages = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? messages(path) : name === 'messages.ts' ? [path] : [];
    });
  const names = messages(join(ROOT, 'src/workflows')).flatMap((file) =>
    [...readFileSync(file, 'utf8').matchAll(/define(?:Signal|Update)\b[^(]*\('([^']+)'\)/g)].map((m) => m[1]),
  );
  return [...new Set(names)].sort();
}
const COVERED = ['alert', 'alertResolved', 'breachTask', 'decide', 'decision', 'reportBreachTask'];

it('every signal and update a workflow defines is sent hostile payloads here', () => {
  assert.deepEqual(definedSignalsAndUpdates(), COVERED);
});

async function workflowTaskFailures(handle: WorkflowHandle): Promise<number> {
  const history = await handle.fetchHistory();
  return (history.events ?? []).filter((e) => e.workflowTaskFailedEventAttributes).length;
}

describe('every gate against hostile decisions', () => {
  const suite = runbookSuite('aiops_test_gates');

  /** Sends each generated payload as the signal and as the update: the update must be refused, nothing may fail. */
  async function bombard(handle: WorkflowHandle): Promise<void> {
    await fc.assert(
      fc.asyncProperty(payload, async (p) => {
        await handle.signal(decisionSignal, p as never);
        await assert.rejects(handle.executeUpdate(decideUpdate, { args: [p as never] }), WorkflowUpdateFailedError);
      }),
      { seed: SEED, numRuns: 60 },
    );
    assert.equal(await workflowTaskFailures(handle), 0, 'no payload may fail a workflow task');
  }

  /**
   * Sends decisions with forged or malformed proofs, as `by` (who may decide at `gate`), from a client that does not
   * sign: each update must be refused and no signal may decide the gate.
   */
  async function forge(handle: WorkflowHandle, gate: string, by: string): Promise<void> {
    const unsigned = new Client({
      connection: suite.env.connection,
      namespace: suite.env.namespace ?? 'default',
    }).workflow.getHandle(handle.workflowId);
    const nowMs = await suite.env.currentTimeMs();
    await fc.assert(
      fc.asyncProperty(forgedDecision(gate, by, nowMs), async (p) => {
        await unsigned.signal(decisionSignal, p as never);
        await assert.rejects(unsigned.executeUpdate(decideUpdate, { args: [p as never] }), WorkflowUpdateFailedError);
      }),
      { seed: SEED, numRuns: 40 },
    );
    assert.equal(await workflowTaskFailures(handle), 0, 'no forged decision may fail a workflow task');
  }

  suite.test(
    'weddingDayCrisis refuses them all, takes any alert payload, fails no workflow task, and still resolves',
    async () => {
      const input = { failure: uniqueId('hostile'), weddingId: uniqueId('w').slice(0, 40) };
      const handle = await suite.env.client.workflow.start(weddingDayCrisis, {
        taskQueue: suite.taskQueue,
        workflowId: crisisWorkflowId(input),
        args: [input],
      });
      await queryUntil(handle, crisisStatusQuery, (s) => s.gates.some((g) => g.gate === 'resolve'));
      await bombard(handle);
      await forge(handle, 'resolve', 'cto');
      assert.ok(
        (await handle.query(crisisStatusQuery)).gates.some((g) => g.gate === 'resolve'),
        'still open',
      );
      // An alert joining the run may carry anything: each is counted and shown as bounded text, none fails a task.
      let alerts = 0;
      await fc.assert(
        fc.asyncProperty(payload, async (p) => {
          await handle.signal(crisisAlertSignal, p as never);
          alerts += 1;
        }),
        { seed: SEED, numRuns: 60 },
      );
      const status = await queryUntil(handle, crisisStatusQuery, (s) => s.alerts === alerts);
      assert.ok(status.timeline.every((e) => e.event.length < 1000));
      await handle.executeUpdate(decideUpdate, {
        args: [{ gate: 'resolve', decision: 'approve', by: 'cto', reason: 'drill over' }],
      });
      assert.equal((await handle.result()).resolvedBy, 'cto');
      assert.equal(await workflowTaskFailures(handle), 0);
      await replayOwnHistory(handle);
    },
  );

  suite.test(
    'incidentResponse refuses them all, counts any alert payload safely, and still takes the acknowledgement',
    async () => {
      const fingerprint = uniqueId('hostile');
      const handle = await suite.env.client.workflow.start(incidentResponse, {
        taskQueue: suite.taskQueue,
        workflowId: incidentWorkflowId(fingerprint),
        args: [{ severity: 'P2', service: 'ai-gateway-service', summary: 'hostile drill', fingerprint }],
      });
      const before = await queryUntil(handle, incidentStatusQuery, (s) =>
        s.gates.some((g) => g.gate === 'acknowledge'),
      );
      await bombard(handle);
      // A re-fired alert may carry anything: each counts its firings (one when malformed), shown as bounded text.
      let firings = before.alertFirings;
      await fc.assert(
        fc.asyncProperty(alertPayload, async (p) => {
          await handle.signal(alertSignal, p as never);
          firings += firingsOf(p as never);
        }),
        { seed: SEED, numRuns: 60 },
      );
      await fc.assert(
        fc.asyncProperty(resolutionPayload, async (p) => {
          await handle.signal(alertResolvedSignal, p as never);
        }),
        { seed: SEED, numRuns: 30 },
      );
      const after = await queryUntil(handle, incidentStatusQuery, (s) => s.alertFirings === firings);
      assert.ok(after.timeline.every((e) => e.event.length <= 1100));
      assert.ok(!Number.isNaN(Date.parse(after.alertResolvedAt!)), `alertResolvedAt ${after.alertResolvedAt}`);
      await handle.executeUpdate(decideUpdate, {
        args: [{ gate: 'acknowledge', decision: 'approve', by: 'oncall', reason: 'on it' }],
      });
      const s = await queryUntil(handle, incidentStatusQuery, (st) => st.step !== 'acknowledge');
      assert.equal(s.acknowledgedBy, 'oncall');
      assert.equal(await workflowTaskFailures(handle), 0);
      await handle.terminate('drill over');
      await replayOwnHistory(handle);
    },
  );

  suite.test('maintenanceChecklist refuses them all and still records a task done', async () => {
    const handle = await suite.env.client.workflow.start(maintenanceChecklist, {
      taskQueue: suite.taskQueue,
      workflowId: uniqueId('hostile-weekly'),
      args: [{ cadence: 'weekly' }],
    });
    await queryUntil(handle, checklistStatusQuery, (s) => s.gates.some((g) => g.gate === 'analyze-cost-trends'));
    await bombard(handle);
    await handle.executeUpdate(decideUpdate, {
      args: [{ gate: 'analyze-cost-trends', decision: 'approve', by: 'ai-lead', reason: 'flat' }],
    });
    const s = await queryUntil(handle, checklistStatusQuery, (st) =>
      st.items.some((i) => i.id === 'analyze-cost-trends'),
    );
    assert.equal(s.items.find((i) => i.id === 'analyze-cost-trends')!.status, 'done');
    await handle.terminate('drill over');
    await replayOwnHistory(handle);
  });

  /** Evidence as preserveEvidence returns it, so the run reaches its isolation gate without a cluster or a bucket. */
  const evidence: EvidenceManifest = {
    caseId: 'hostile',
    bucket: 'evidence',
    namespace: 'default',
    deployment: 'scrolluniversity-backend',
    pods: [],
    files: [],
    logErrors: [],
    collectedAt: '2026-11-26T00:00:00Z',
  };
  suite.test(
    'dataBreachResponse refuses bad task reports and decisions, takes the good reports, and still takes the decision',
    async () => {
      const handle = await suite.env.client.workflow.start(dataBreachResponse, {
        taskQueue: suite.taskQueue,
        workflowId: uniqueId('hostile-breach'),
        args: [{ deployment: 'scrolluniversity-backend', reportedBy: 'security', summary: 'hostile drill' }],
      });
      await queryUntil(handle, dataBreachStatusQuery, (s) => s.gates.some((g) => g.gate === 'isolate'));
      await bombard(handle);
      await forge(handle, 'isolate', 'security');
      // A report is taken when it is one of the tasks, by someone on the roster, with a note; anything else is
      // refused to the update's caller and changes nothing when signalled.
      const taken = new Set<string>();
      await fc.assert(
        fc.asyncProperty(taskReport, async (p) => {
          const sent = overTheWire(p);
          const parsed = breachTaskReportSchema.safeParse(sent);
          const valid = parsed.success && BREACH_REPORTERS.includes(parsed.data.by);
          if (valid) {
            taken.add(parsed.data.task);
            const state = await handle.executeUpdate(reportBreachTaskUpdate, { args: [sent as never] });
            assert.equal(state.done, true);
          } else {
            await assert.rejects(
              handle.executeUpdate(reportBreachTaskUpdate, { args: [sent as never] }),
              WorkflowUpdateFailedError,
            );
          }
          await handle.signal(breachTaskSignal, sent as never);
        }),
        { seed: SEED, numRuns: 80 },
      );
      const status = await handle.query(dataBreachStatusQuery);
      assert.deepEqual(
        status.tasks.filter((t) => t.done).map((t) => t.task),
        status.tasks.map((t) => t.task).filter((t) => taken.has(t)),
      );
      assert.ok(status.tasks.every((t) => !t.done || BREACH_REPORTERS.includes(t.by!)));
      assert.ok(
        status.gates.some((g) => g.gate === 'isolate'),
        'nothing forged decided the isolation',
      );
      const outcome = await handle.executeUpdate(decideUpdate, {
        args: [{ gate: 'isolate', decision: 'reject', by: 'security', reason: 'drill: keep it running' }],
      });
      assert.equal(outcome.by, 'security');
      assert.equal(await workflowTaskFailures(handle), 0);
      await handle.terminate('drill over');
      await replayOwnHistory(handle);
    },
    {
      preserveEvidence: async () => evidence,
      failoverTargets: async () => ({ ingress: 'ai-ingress', primary: 'ai-primary', backup: 'ai-backup', port: 80 }),
    },
  );
});
