/**
 * Decisions bound to who made them: a gate takes a decision only when it is signed by the key the roster holds
 * for its `by`, has not expired and was not sent before; the roster is read again when a decision arrives, so a
 * person removed while a workflow waits is refused. Decisions from signers the workflow's roster does not know
 * share one roster read a minute, so a flood of them signed by made-up people cannot fill the history with reads.
 * This suite's roster and keys are its own, made here.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe } from 'node:test';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { setTimeout as delay } from 'node:timers/promises';
import { patchesInHistory } from '../../src/client/patches';
import { signDecision, type DecisionFields, type SignedDecision } from '../../src/client/sign-decision';
import { publicKeyHex } from '../../src/config/keys';
import { weddingDayCrisis } from '../../src/workflows';
import { crisisStatusQuery, crisisWorkflowId } from '../../src/workflows/crisis/messages';
import {
  GATE_PATCHES_AT_START_PATCH,
  SIGNED_DECISIONS_PATCH,
  VERIFICATION_BUDGET_PATCH,
} from '../../src/workflows/gates/gatekeeper';
import { decideUpdate, decisionSignal } from '../../src/workflows/gates/messages';
import { workflowTaskFailures } from '../helpers/hostile';
import { runbookSuite } from '../helpers/runbook-suite';
import { queryUntil, rejectsWithCause, replayOwnHistory, uniqueId } from '../helpers/temporal';
import { waitUntil } from '../helpers/wait';

const key = () => generateKeyPairSync('ed25519').privateKey;
const keys: Record<string, KeyObject> = { alice: key(), bob: key(), carol: key() };
/** alice and carol may resolve a crisis (cto), bob too (ai-ops); dave is on the roster without a key. */
const ROSTER = [
  { id: 'alice', name: 'Alice', roles: ['cto'], publicKey: publicKeyHex(keys.alice) },
  { id: 'bob', name: 'Bob', roles: ['ai-ops'], publicKey: publicKeyHex(keys.bob) },
  { id: 'carol', name: 'Carol', roles: ['cto'], publicKey: publicKeyHex(keys.carol) },
  { id: 'dave', name: 'Dave', roles: ['cto'] },
];

describe('signed decisions at a gate', () => {
  const suite = runbookSuite('aiops_test_signed_decisions', () => ({ AIOPS_ROSTER: JSON.stringify(ROSTER) }));

  async function crisisAtResolveGate(): Promise<WorkflowHandle<typeof weddingDayCrisis>> {
    const input = { failure: uniqueId('signed') };
    const handle = await suite.env.client.workflow.start(weddingDayCrisis, {
      taskQueue: suite.taskQueue,
      workflowId: crisisWorkflowId(input),
      args: [input],
    });
    await queryUntil(handle, crisisStatusQuery, (s) => s.gates.some((g) => g.gate === 'resolve'), 30_000);
    return handle;
  }

  const resolve = (by: string, reason = 'crisis manager back'): DecisionFields => ({
    gate: 'resolve',
    decision: 'approve',
    by,
    reason,
  });

  /** Signed by the clock of the test server, which time skipping may have moved ahead of the machine's. */
  async function signed(
    handle: WorkflowHandle,
    signer: KeyObject,
    fields: DecisionFields,
    lifetimeMs?: number,
  ): Promise<SignedDecision> {
    return signDecision(signer, handle.workflowId, fields, { nowMs: await suite.env.currentTimeMs(), lifetimeMs });
  }

  const decide = (handle: WorkflowHandle, d: object) => handle.executeUpdate(decideUpdate, { args: [d as never] });

  const loadDirectoryCalls = async (handle: WorkflowHandle) =>
    ((await handle.fetchHistory()).events ?? []).filter(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'loadDirectory',
    ).length;

  /** Whether `promise` is still unsettled after `ms` of the machine's time (the test server's clock stands still). */
  const stillWaiting = async (promise: Promise<unknown>, ms = 2_000) =>
    (await Promise.race([
      promise.then(
        () => 'answered',
        () => 'answered',
      ),
      delay(ms).then(() => 'waiting'),
    ])) === 'waiting';

  /** The refusal message of each update, or "taken". */
  const answers = (pending: Promise<unknown>[]) =>
    Promise.all(
      pending.map((p) =>
        p.then(
          () => 'taken',
          (err: { cause?: { message?: string } }) => String(err.cause?.message),
        ),
      ),
    );

  /** Decisions signed by made-up people, each with a key of their own: well formed, signed, on no roster. */
  async function fromStrangers(handle: WorkflowHandle, n: number, prefix: string): Promise<SignedDecision[]> {
    const nowMs = await suite.env.currentTimeMs();
    return Array.from({ length: n }, (_, i) =>
      signDecision(key(), handle.workflowId, resolve(`${prefix}-${i}`, 'let me in'), { nowMs }),
    );
  }

  async function sendSignals(handle: WorkflowHandle, decisions: SignedDecision[]): Promise<void> {
    for (let i = 0; i < decisions.length; i += 50) {
      await Promise.all(decisions.slice(i, i + 50).map((d) => handle.signal(decisionSignal, d)));
    }
  }

  /** Refusals audited for the workflow's resolve gate, by action, whose reason matches `reason` (a SQL pattern). */
  async function refusalsAudited(workflowId: string, reason: string, expected: Record<string, number>) {
    const read = async () =>
      Object.fromEntries(
        (
          await suite.deps.pool.query<{ action: string; n: string }>(
            `SELECT action, count(*) AS n FROM audit_log
              WHERE workflow_id = $1 AND step = 'gate:resolve' AND outcome = 'rejected' AND reason LIKE $2
              GROUP BY action`,
            [workflowId, reason],
          )
        ).rows.map((r) => [r.action, Number(r.n)]),
      );
    return waitUntil(
      `refusals audited: ${JSON.stringify(expected)}`,
      read,
      (counts) => Object.entries(expected).every(([action, n]) => (counts[action] ?? 0) >= n),
      60_000,
    );
  }

  async function auditRows(workflowId: string, count: number) {
    const read = async () =>
      (
        await suite.deps.pool.query<{ actor: string; action: string; outcome: string; reason: string | null }>(
          `SELECT actor, action, outcome, reason FROM audit_log
            WHERE workflow_id = $1 AND step = 'gate:resolve' AND action <> 'gate-opened' ORDER BY id`,
          [workflowId],
        )
      ).rows;
    return waitUntil(`${count} audit rows`, read, (rows) => rows.length >= count);
  }

  suite.test(
    'refuses a forged by: unsigned, signed by someone else, altered after signing, or by a keyless person',
    async () => {
      const handle = await crisisAtResolveGate();
      // How decisions are checked is settled in the run's first task, before any decision can arrive.
      const events = (await handle.fetchHistory()).events ?? [];
      const firstDone = events.findIndex((e) => e.workflowTaskCompletedEventAttributes);
      const nextTask = events.findIndex((e, i) => i > firstDone && e.workflowTaskScheduledEventAttributes);
      assert.ok(firstDone >= 0 && nextTask > firstDone);
      const firstTask = patchesInHistory({ events: events.slice(firstDone, nextTask) });
      for (const id of [GATE_PATCHES_AT_START_PATCH, SIGNED_DECISIONS_PATCH, VERIFICATION_BUDGET_PATCH])
        assert.ok(firstTask.has(id), `${id} set in the first task (${[...firstTask].join(', ')})`);
      await rejectsWithCause(decide(handle, resolve('alice')), /^signature: required/);
      await rejectsWithCause(
        decide(handle, await signed(handle, keys.bob, resolve('alice'))),
        /^signature: does not verify under the roster key of "alice"/,
      );
      const altered = { ...(await signed(handle, keys.alice, resolve('alice'))), reason: 'something else' };
      await rejectsWithCause(decide(handle, altered), /^signature: does not verify/);
      const otherWorkflow = signDecision(keys.alice, 'crisis-takeover-elsewhere', resolve('alice'), {
        nowMs: await suite.env.currentTimeMs(),
      });
      await rejectsWithCause(decide(handle, otherWorkflow), /^signature: does not verify/);
      await rejectsWithCause(
        decide(handle, await signed(handle, keys.alice, resolve('dave'))),
        /^by: "dave" has no public key on the roster/,
      );
      // The same forgery as a signal changes nothing and is audited.
      await handle.signal(decisionSignal, resolve('alice') as never);

      const rows = await auditRows(handle.workflowId, 6);
      assert.deepEqual(rows.map((r) => [r.actor, r.action, r.outcome]).sort(), [
        ['alice', 'decision-signal', 'rejected'],
        ['alice', 'decision-update', 'rejected'],
        ['alice', 'decision-update', 'rejected'],
        ['alice', 'decision-update', 'rejected'],
        ['alice', 'decision-update', 'rejected'],
        ['dave', 'decision-update', 'rejected'],
      ]);
      assert.ok(rows.every((r) => /signature|public key/.test(r.reason ?? '')));

      await decide(handle, await signed(handle, keys.alice, resolve('alice')));
      assert.equal((await handle.result()).resolvedBy, 'alice');
    },
  );

  suite.test('refuses an expired decision and one valid for longer than an hour', async () => {
    const handle = await crisisAtResolveGate();
    const now = await suite.env.currentTimeMs();
    const expired = signDecision(keys.alice, handle.workflowId, resolve('alice'), {
      nowMs: now - 20 * 60_000,
      lifetimeMs: 10 * 60_000,
    });
    await rejectsWithCause(decide(handle, expired), /^expiresAt: the decision expired/);
    await rejectsWithCause(
      decide(handle, await signed(handle, keys.alice, resolve('alice'), 3 * 60 * 60_000)),
      /^expiresAt: at most 60 minutes ahead/,
    );
    const outcome = await decide(handle, await signed(handle, keys.bob, resolve('bob', 'signed in time')));
    assert.equal(outcome.by, 'bob');
  });

  suite.test(
    'takes a key replaced on the roster while the workflow waits, re-reading at most once a minute',
    async () => {
      const handle = await crisisAtResolveGate();
      // carol's key is replaced on the worker's roster; the workflow still holds the old one.
      const replacement = key();
      const carol = suite.deps.roster.find((p) => p.id === 'carol')!;
      const oldKey = carol.publicKey;
      carol.publicKey = publicKeyHex(replacement);
      try {
        // Within a minute of the workflow's roster read, the held key decides: the new one is refused outright.
        await rejectsWithCause(
          decide(handle, await signed(handle, replacement, resolve('carol', 'too soon'))),
          /^signature: does not verify under the roster key of "carol"/,
        );
        const reads = await loadDirectoryCalls(handle);
        await suite.env.sleep('61 seconds');
        // A minute on, a forgery goes to the handler, which reads the roster and refuses it; the next forgery within
        // the minute is refused by the validator, without another read.
        await rejectsWithCause(
          decide(handle, await signed(handle, keys.bob, resolve('carol', 'forged'))),
          /^signature: does not verify under the roster key of "carol"/,
        );
        await rejectsWithCause(
          decide(handle, await signed(handle, keys.bob, resolve('carol', 'forged again'))),
          /^signature: does not verify under the roster key of "carol"/,
        );
        assert.equal(await loadDirectoryCalls(handle), reads + 1);
        await suite.env.sleep('61 seconds');
        const outcome = await decide(handle, await signed(handle, replacement, resolve('carol', 'new key')));
        assert.equal(outcome.by, 'carol');
        assert.equal((await handle.result()).resolvedBy, 'carol');
        await replayOwnHistory(handle);
      } finally {
        carol.publicKey = oldKey;
      }
    },
  );

  suite.test('refuses a person removed from the roster while the workflow waits, and a replayed nonce', async () => {
    const handle = await crisisAtResolveGate();
    const carols = await signed(handle, keys.carol, resolve('carol', 'from carol'));
    // The worker's roster changes under the running workflow, as a worker redeployed without carol.
    const roster = suite.deps.roster;
    const index = roster.findIndex((p) => p.id === 'carol');
    const [carol] = roster.splice(index, 1);
    try {
      await assert.rejects(decide(handle, carols), (err: Error) => {
        assert.ok(err instanceof WorkflowUpdateFailedError);
        assert.match(String(err.cause?.message), /^by: "carol" is not on the roster/);
        return true;
      });
      // A signal signed by her is refused the same way (and she stays off the roster until it has been): the roster
      // the workflow holds no longer has her, so it waits for the shared read, a minute after the last.
      await handle.signal(decisionSignal, await signed(handle, keys.carol, resolve('carol', 'by signal')));
      await suite.env.sleep('61 seconds');
      await auditRows(handle.workflowId, 2);
    } finally {
      roster.splice(index, 0, carol);
    }
    // Back on the roster, the decision already sent once is still refused: its nonce was seen.
    await rejectsWithCause(decide(handle, carols), /^nonce: this decision was already sent/);
    const rows = await auditRows(handle.workflowId, 3);
    assert.deepEqual(rows.map((r) => [r.actor, r.action, r.outcome]).sort(), [
      ['carol', 'decision-signal', 'rejected'],
      ['carol', 'decision-update', 'rejected'],
      ['carol', 'decision-update', 'rejected'],
    ]);
    assert.match(rows.find((r) => r.action === 'decision-signal')?.reason ?? '', /^by: "carol" is not on the roster/);
    // Her new decision waits for the next shared read, which finds her back.
    const again = decide(handle, await signed(handle, keys.carol, resolve('carol', 'signed again')));
    await suite.env.sleep('61 seconds');
    await again;
    assert.equal((await handle.result()).resolvedBy, 'carol');
    // Refusals in the handler, a roster read and the patch marker replay as they ran.
    await replayOwnHistory(handle);
  });

  suite.test(
    'a flood of signed decisions from made-up signers costs one roster read; all refused, the gate still decides',
    async () => {
      const handle = await crisisAtResolveGate();
      const reads = await loadDirectoryCalls(handle);
      const flood = await fromStrangers(handle, 500, 'stranger');
      await sendSignals(handle, flood);
      // Updates from made-up signers wait the same way: their callers are answered after the read.
      const updates = (await fromStrangers(handle, 5, 'stranger-update')).map((d) => decide(handle, d));
      // A copy of a waiting decision is refused at once, as a repeat.
      await rejectsWithCause(decide(handle, flood[0]), /^nonce: this decision was already sent/);
      assert.ok(await stillWaiting(Promise.race(updates)), 'the updates wait for the shared read');
      assert.equal(await loadDirectoryCalls(handle), reads, 'no read within the minute after the workflow read it');

      await suite.env.sleep('61 seconds');
      const refused = await answers(updates);
      refused.forEach((message, i) =>
        assert.match(message, new RegExp(`^by: "stranger-update-${i}" is not on the roster`)),
      );
      assert.deepEqual(
        await refusalsAudited(handle.workflowId, 'by: "stranger-%" is not on the roster', {
          'decision-signal': 500,
          'decision-update': 5,
        }),
        { 'decision-signal': 500, 'decision-update': 5 },
      );
      const read = (await loadDirectoryCalls(handle)) - reads;
      assert.ok(read >= 1 && read <= 2, `${read} roster reads for 505 decisions from made-up signers`);
      assert.equal(await workflowTaskFailures(handle), 0);

      const outcome = await decide(handle, await signed(handle, keys.alice, resolve('alice', 'after the flood')));
      assert.equal(outcome.by, 'alice');
      assert.equal((await handle.result()).resolvedBy, 'alice');
      await replayOwnHistory(handle);
    },
  );

  suite.test(
    'takes a decision from a person added to the roster after the workflow read it, within the minute',
    async () => {
      const handle = await crisisAtResolveGate();
      const roster = suite.deps.roster;
      const erinKey = key();
      roster.push({
        ...roster.find((p) => p.id === 'alice')!,
        id: 'erin',
        name: 'Erin',
        publicKey: publicKeyHex(erinKey),
      });
      try {
        const reads = await loadDirectoryCalls(handle);
        const taking = decide(handle, await signed(handle, erinKey, resolve('erin', 'new on the team')));
        // The roster the workflow holds was read a moment ago: erin's decision waits for the read a minute after it.
        assert.ok(await stillWaiting(taking), 'the decision waits for the shared read');
        await suite.env.sleep('61 seconds');
        assert.equal((await taking).by, 'erin');
        assert.equal(await loadDirectoryCalls(handle), reads + 1);
        assert.equal((await handle.result()).resolvedBy, 'erin');
        assert.equal(await workflowTaskFailures(handle), 0);
        await replayOwnHistory(handle);
      } finally {
        roster.splice(
          roster.findIndex((p) => p.id === 'erin'),
          1,
        );
      }
    },
  );

  suite.test(
    'decisions from made-up signers waiting for the roster do not hold up a decision or the end of the workflow',
    async () => {
      const handle = await crisisAtResolveGate();
      await sendSignals(handle, await fromStrangers(handle, 50, 'waiting'));
      const updates = (await fromStrangers(handle, 3, 'waiting-update')).map((d) => decide(handle, d));
      assert.ok(await stillWaiting(Promise.race(updates)), 'the updates wait for the shared read');
      // alice is on the roster the workflow holds: her decision is read for at once, without the minute's wait.
      const outcome = await decide(handle, await signed(handle, keys.alice, resolve('alice', 'while they wait')));
      assert.equal(outcome.by, 'alice');
      assert.equal((await handle.result()).resolvedBy, 'alice');
      // Those waiting are answered with the workflow: refused, none taken.
      for (const message of await answers(updates)) {
        assert.match(message, /^(by: "waiting-update-\d" is not on the roster|gate "resolve" is not open)/);
      }
      const audited = await refusalsAudited(handle.workflowId, '%', { 'decision-signal': 50, 'decision-update': 3 });
      assert.deepEqual(audited, { 'decision-signal': 50, 'decision-update': 3 });
      assert.equal(await workflowTaskFailures(handle), 0);
      await replayOwnHistory(handle);
    },
  );
});
