/** `npm run sign-decision` as an operator runs it: the printed decision verifies under the operator's roster key. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { publicKeyHex } from '../../src/config/keys';
import { proofProblem } from '../../src/contracts/decision-signature';

const CLI = join(__dirname, '..', '..', 'src', 'cli', 'runbook.js');

function signCli(args: string[], env: NodeJS.ProcessEnv) {
  return spawnSync(process.execPath, [CLI, 'sign-decision', ...args], {
    encoding: 'utf8',
    timeout: 30_000,
    env: { PATH: process.env.PATH, ...env },
  });
}

describe('runbook sign-decision', () => {
  it('prints a decision signed with the operator key and the temporal command that sends it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aiops-sign-'));
    try {
      const { privateKey } = generateKeyPairSync('ed25519');
      const keyFile = join(dir, 'ops.pem');
      writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
      const args = [
        '--workflow-id',
        'incident-x',
        '--gate',
        'acknowledge',
        '--decision',
        'approve',
        '--reason',
        "it's mine",
      ];
      const r = signCli([...args, '--minutes', '5'], { AIOPS_OPERATOR_ID: 'ops', AIOPS_OPERATOR_KEY_FILE: keyFile });
      assert.equal(r.status, 0, r.stderr);
      const [json, , , command] = r.stdout.split('\n');
      const decision = JSON.parse(json) as { by: string; expiresAt: string };
      assert.equal(decision.by, 'ops');
      const lifetime = Date.parse(decision.expiresAt) - Date.now();
      assert.ok(lifetime > 4 * 60_000 && lifetime <= 5 * 60_000, `expires in ${lifetime} ms`);
      assert.equal(proofProblem('incident-x', decision as never, publicKeyHex(privateKey), Date.now()), undefined);
      assert.match(
        proofProblem('incident-y', decision as never, publicKeyHex(privateKey), Date.now()) ?? '',
        /^signature/,
      );
      assert.match(command, /^temporal workflow update execute --workflow-id 'incident-x' --name decide --input '\{/);

      const noKey = signCli(args, { AIOPS_OPERATOR_ID: 'ops' });
      assert.equal(noKey.status, 1);
      assert.match(noKey.stderr, /AIOPS_OPERATOR_KEY_FILE is not set/);
      const bad = signCli([...args.slice(0, 4), '--decision', 'maybe', '--reason', 'x'], {});
      assert.equal(bad.status, 2);
      assert.match(bad.stderr, /--decision must be approve or reject/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
