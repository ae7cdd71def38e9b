/**
 * Preloaded (`node -r`) by the npm scripts of the worker and the operator commands (`npm run audit`,
 * `npm run schedules`, ...): when a start wrote the local stack's settings (.data/local-stack.json, or under
 * AIOPS_DATA_DIR), every setting the operator did not give is taken from there, so a command run in another
 * shell finds the stack `npm start` runs. Without that file nothing is added, and a missing setting stops the
 * command with a message naming it.
 */
import { existsSync } from 'node:fs';
import { readLocalStackFile, withLocalStack } from './lib/local-stack';
import { OPERATOR_KEYS_DIR } from './lib/operator-keys';

const settings = readLocalStackFile();
if (settings) {
  for (const [name, value] of Object.entries(withLocalStack(process.env, settings))) {
    if (process.env[name] === undefined && value !== undefined) process.env[name] = value;
  }
}

// The demo roster's private keys: `runbook approve --by oncall` signs as the local stack's on-call engineer.
if (settings && process.env.AIOPS_OPERATOR_KEYS_DIR === undefined && existsSync(OPERATOR_KEYS_DIR)) {
  process.env.AIOPS_OPERATOR_KEYS_DIR = OPERATOR_KEYS_DIR;
}
