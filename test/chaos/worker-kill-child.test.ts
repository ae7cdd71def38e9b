/**
 * Worker SIGKILL at random points of a remediation's child workflow: WedSync's high-response-times remediation,
 * approved, scales both engines and then purges the corrupted AI cache as a child (`purgeCache`). The worker
 * process is killed at a seeded share of the child's purge and another takes over: the parent and the child both
 * resume on it. Counted where the effects land: each engine scaled by one change of its spec, every `ai:` key gone
 * and counted once, no other key removed, the child started once and the responders told once.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { startDemoApi, type DemoApi } from '../../scripts/lib/demo-api';
import type { PurgeProgress } from '../../src/contracts/maintenance';
import { highResponseTimesRemediation } from '../../src/workflows';
import { decideUpdate } from '../../src/workflows/gates/messages';
import type { HighResponseTimesResult } from '../../src/workflows/remediation-wedsync/high-response-times/messages';
import { remediationStatusQuery } from '../../src/workflows/remediation/messages';
import {
  chaosRuns,
  chaosSuite,
  killAndResume,
  killPoints,
  loadPurgeKeys,
  removePurgeKeys,
  resultWithin,
  serverCheckpoint,
  statusWhen,
  tallyPurgeKeys,
  watchUnlinks,
} from '../helpers/chaos';
import { kubeconfigPath, testCluster, type TestCluster } from '../helpers/kube';
import { REDIS_DB, redisUrlFor } from '../helpers/maintenance';
import { slackTexts } from '../helpers/runbook-receiver';
import { replayOwnHistory, uniqueId } from '../helpers/temporal';
import { freshWedsyncEngines, WEDSYNC_ENGINES } from '../helpers/wedsync-engines';

const GATE = 'scale-ai-engines';
/** Enough keys that the child's purge (1,000 a SCAN, 1,000 an UNLINK) takes seconds to kill it in. */
const KEYS = 200_000;
/** The heartbeat timeout (30 s), the rest of the purge, the warm-up and the second reading, with room. */
const RECOVERY_DEADLINE_MS = 240_000;

describe('a worker SIGKILLed at random points of a remediation’s child workflow', () => {
  const runs = chaosRuns();
  const killPoint = killPoints();
  const suite = chaosSuite('aiops_test_chaos_kill_child', { redisUrl: redisUrlFor(REDIS_DB.chaosChild) });
  let cluster: TestCluster;
  let demo: DemoApi;
  const demoCalls = join(tmpdir(), `demo-api-chaos-child-${randomUUID()}.log`);
  const settings: NodeJS.ProcessEnv = {};
  before(async () => {
    cluster = await testCluster('aiops-chaos-child');
    demo = await startDemoApi(suite.databaseUrl, 0, demoCalls, {
      kubeconfig: kubeconfigPath(),
      aiNamespace: cluster.namespace,
    });
    Object.assign(settings, {
      K8S_AI_NAMESPACE: cluster.namespace,
      WEDSYNC_METRICS_URL: `${demo.url}/ai/metrics/daily`,
      CACHE_WARMUP_URLS: `${demo.url}/ai/health`,
    });
  });
  after(async () => {
    await demo?.close();
    await cluster?.destroy();
  });

  /** Both engines made anew at 3 replicas and slow until scaled; returns each one's spec generation. */
  async function slowEngines(): Promise<number[]> {
    await freshWedsyncEngines(cluster, demo.url, 'slow');
    return engines();
  }

  async function engines(): Promise<number[]> {
    return Promise.all(
      WEDSYNC_ENGINES.map(
        async (name) =>
          (await cluster.apps.readNamespacedDeployment({ name, namespace: cluster.namespace })).metadata?.generation ??
          0,
      ),
    );
  }

  suite.scenario(
    'the engines scaled once, the cache purged once by the child, the responders told once',
    { row: 'worker SIGKILL: remediation with a child cache purge (200,000 keys)', runs, timeout: runs * 360_000 },
    async (tally) => {
      const redis = suite.deps.redis;
      const run = uniqueId('c').slice(-12);
      const generations = await slowEngines();
      await loadPurgeKeys(redis, run, KEYS);
      const unlinks = await watchUnlinks(REDIS_DB.chaosChild, run);
      const toldBefore = slackTexts(suite.receiver).length;
      try {
        const taskQueue = uniqueId('kill-child');
        const first = await suite.worker(taskQueue, settings);
        const workflowId = uniqueId('kill-child');
        const handle = await suite.client.workflow.start(highResponseTimesRemediation, {
          taskQueue,
          workflowId,
          args: [{ requestedBy: 'oncall', severity: 'P2', cacheCorrupted: true, settleSeconds: 0 }],
        });
        const gate = await statusWhen(
          handle,
          remediationStatusQuery,
          (s) => s.gates.some((g) => g.gate === GATE),
          60_000,
        );
        assert.ok(gate, 'the remediation asks for approval');
        await handle.executeUpdate(decideUpdate, {
          args: [{ gate: GATE, decision: 'approve', by: 'oncall', reason: 'go' }],
        });
        const child = suite.client.workflow.getHandle(`${workflowId}/purge-cache`);
        const share = killPoint();
        const result = await killAndResume<HighResponseTimesResult>(
          suite,
          tally,
          taskQueue,
          handle,
          first,
          async () =>
            ((await serverCheckpoint<PurgeProgress>(child).catch(() => undefined))?.removed ?? 0) >= share * KEYS,
          () => resultWithin(handle, RECOVERY_DEADLINE_MS, tally.notes),
          settings,
        );
        await replayOwnHistory(handle);
        await replayOwnHistory(child);

        const left = await tallyPurgeKeys(tally, redis, run, KEYS, unlinks.repeated());
        const scaled = (await engines()).map((g, i) => g - generations[i]);
        const childStarts = ((await handle.fetchHistory()).events ?? []).filter(
          (e) => e.childWorkflowExecutionStartedEventAttributes,
        ).length;
        const told = slackTexts(suite.receiver)
          .slice(toldBefore)
          .filter((t) => /response time 12000 ms → 250 ms/.test(t)).length;
        const extra = (n: number) => Math.max(0, n - 1);
        tally.duplicated += scaled.reduce((sum, n) => sum + extra(n), 0) + extra(childStarts) + extra(told);
        tally.lost += scaled.filter((n) => n === 0).length + (told === 0 ? 1 : 0);
        const purged = result?.actions.find((a) => a.startsWith('AI cache purged'));
        if (purged !== `AI cache purged: ${KEYS} keys matching ai:*`) tally.notes.push(`counted: ${purged}`);
        assert.ok(result, 'the remediation completed after the kill');
        assert.deepEqual(
          {
            outcome: result.outcome,
            purged,
            left,
            unlinkedTwice: unlinks.repeated(),
            scaled,
            childStarts,
            told,
          },
          {
            outcome: 'fixed',
            purged: `AI cache purged: ${KEYS} keys matching ai:*`,
            left: { ai: 0, keep: KEYS },
            unlinkedTwice: 0,
            scaled: [1, 1],
            childStarts: 1,
            told: 1,
          },
          'every change made once, every ai: key removed and counted once',
        );
      } finally {
        unlinks.close();
        await removePurgeKeys(redis, run);
      }
    },
  );
});
