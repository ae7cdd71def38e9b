import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import fc from 'fast-check';
import { ROOT } from '../../scripts/lib/paths';
import { breachTaskReportSchema, type EvidenceManifest } from '../../src/contracts/breach';
import * as workflows from '../../src/workflows';
import { dataBreachResponse, incidentResponse, maintenanceChecklist, weddingDayCrisis } from '../../src/workflows';
import { checklistStatusQuery } from '../../src/workflows/checklists/messages';
import { crisisAlertSignal, crisisStatusQuery, crisisWorkflowId } from '../../src/workflows/crisis/messages';
import {
  breachTaskSignal,
  dataBreachStatusQuery,
  reportBreachTaskUpdate,
} from '../../src/workflows/data-breach/messages';
import { decideUpdate } from '../../src/workflows/gates/messages';
import {
  alertResolvedSignal,
  alertSignal,
  firingsOf,
  incidentStatusQuery,
  incidentWorkflowId,
} from '../../src/workflows/incident/messages';
import { bombard, decisionPayload, forge, GATE_SEED, overTheWire, workflowTaskFailures } from '../helpers/hostile';
import { runbookSuite } from '../helpers/runbook-suite';
import { queryUntil, replayOwnHistory, uniqueId } from '../helpers/temporal';

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

/**
 * The workflow types the worker runs that wait at a gate: those whose function, or a function of its own module it
 * calls, makes a gatekeeper or waits at one (`gates.wait(`), or waits at a remediation's approval (`r.approve(`).
 */
function gatedWorkflowTypes(): string[] {
  const files = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? files(path) : name === 'workflow.ts' ? [path] : [];
    });
  const opensGate = (body: string) => /\bnew Gatekeeper\(|\bgates\.wait\(|\br\.approve\(/.test(body);
  return files(join(ROOT, 'src/workflows'))
    .flatMap((file) => {
      const text = readFileSync(file, 'utf8');
      const starts = [...text.matchAll(/^(export )?(?:async )?function (\w+)/gm)];
      const fns = starts.map((m, i) => ({
        name: m[2],
        exported: !!m[1],
        body: text.slice(m.index, starts[i + 1]?.index ?? text.length),
      }));
      return fns
        .filter(
          (f) =>
            f.exported &&
            (opensGate(f.body) || fns.some((g) => g !== f && f.body.includes(`${g.name}(`) && opensGate(g.body))),
        )
        .map((f) => f.name);
    })
    .filter((name) => name in workflows)
    .sort();
}

it('every workflow that waits at a gate has its gate bombarded in test/gates', () => {
  const gated = gatedWorkflowTypes();
  assert.ok(gated.length >= 13, `only ${gated.join(', ')} found gated: the search no longer finds the gates`);
  const tests = readdirSync(join(ROOT, 'test/gates'))
    .filter((name) => /^hostile-.*\.test\.ts$/.test(name))
    .map((name) => readFileSync(join(ROOT, 'test/gates', name), 'utf8'));
  const covered = (type: string) =>
    tests.some((text) => new RegExp(`\\b${type}\\b[\\s\\S]*(assaultGate|bombard)\\(`).test(text));
  assert.deepEqual(
    gated.filter((type) => !covered(type)),
    [],
  );
});

describe('every gate against hostile decisions', () => {
  const suite = runbookSuite('aiops_test_gates');

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
      await forge(suite.env, handle, 'resolve', 'cto');
      assert.ok(
        (await handle.query(crisisStatusQuery)).gates.some((g) => g.gate === 'resolve'),
        'still open',
      );
      // An alert joining the run may carry anything: each is counted and shown as bounded text, none fails a task.
      let alerts = 0;
      await fc.assert(
        fc.asyncProperty(decisionPayload(), async (p) => {
          await handle.signal(crisisAlertSignal, p as never);
          alerts += 1;
        }),
        { seed: GATE_SEED, numRuns: 60 },
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
        { seed: GATE_SEED, numRuns: 60 },
      );
      await fc.assert(
        fc.asyncProperty(resolutionPayload, async (p) => {
          await handle.signal(alertResolvedSignal, p as never);
        }),
        { seed: GATE_SEED, numRuns: 30 },
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
      await forge(suite.env, handle, 'isolate', 'security');
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
        { seed: GATE_SEED, numRuns: 80 },
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
