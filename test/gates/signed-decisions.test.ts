/**
 * Decisions bound to who made them: a gate takes a decision only when it is signed by the key the roster holds
 * for its `by`, has not expired and was not sent before; the roster is read again when a decision arrives, so a
 * person removed while a workflow waits is refused. This suite's roster and keys are its own, made here.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe } from 'node:test';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { signDecision, type DecisionFields, type SignedDecision } from '../../src/client/sign-decision';
import { publicKeyHex } from '../../src/config/keys';
import { weddingDayCrisis } from '../../src/workflows';
import { crisisStatusQuery, crisisWorkflowId } from '../../src/workflows/crisis/messages';
import { decideUpdate, decisionSignal } from '../../src/workflows/gates/messages';
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
      const loadDirectoryCalls = async () =>
        ((await handle.fetchHistory()).events ?? []).filter(
          (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'loadDirectory',
        ).length;
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
        const reads = await loadDirectoryCalls();
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
        assert.equal(await loadDirectoryCalls(), reads + 1);
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
      // A signal signed by her is refused the same way (and she stays off the roster until it has been).
      await handle.signal(decisionSignal, await signed(handle, keys.carol, resolve('carol', 'by signal')));
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
    await decide(handle, await signed(handle, keys.carol, resolve('carol', 'signed again')));
    assert.equal((await handle.result()).resolvedBy, 'carol');
    // Refusals in the handler, a roster read and the patch marker replay as they ran.
    await replayOwnHistory(handle);
  });
});
