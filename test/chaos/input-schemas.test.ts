/**
 * Issue 18, hostile input, the pure half: every workflow's own input check (the catalog's `parse`, the one each
 * workflow runs first) against generated inputs, no Temporal. Each input is one thing broken in a valid one (a field
 * replaced by hostile values, removed, an unknown or prototype key added) or the whole input replaced. The check
 * either accepts it, with a result the check accepts again and that JSON carries unchanged, or throws the
 * non-retryable InvalidInput naming the field at fault; never another exception.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { listRunbooks, runbook, type WorkflowType } from '../../src/client/runbooks';
import * as workflows from '../../src/workflows';
import {
  DERIVED_FIELDS,
  hostileValue,
  mutationOf,
  overTheWire,
  refusalProblem,
  SEED,
  VALID_INPUTS,
  type Mutation,
} from '../helpers/hostile';

/** Generated inputs per workflow type: a few thousand parses in all, well under a second each type. */
const RUNS = 400;

const TYPES = listRunbooks().map((r) => r.workflowType);

/** The result of a check that accepted `raw`: accepted again, and the same once through JSON as a client sends it. */
function acceptedProblem(type: WorkflowType, raw: unknown, result: unknown): string | undefined {
  const parse = runbook(type).parse;
  if (typeof result !== 'object' || result === null) return `accepted as ${String(result)}`;
  const again = Object.fromEntries(
    Object.entries(result).filter(([key]) => !(DERIVED_FIELDS[type] ?? []).includes(key)),
  );
  try {
    if (JSON.stringify(parse(again)) !== JSON.stringify(result)) return 'its result parses to something else';
    if (JSON.stringify(parse(overTheWire(raw))) !== JSON.stringify(result)) return 'sent as JSON it parses differently';
  } catch (err) {
    return `its result, or the input sent as JSON, is refused: ${String(err)}`;
  }
  return undefined;
}

function check(type: WorkflowType, raw: unknown, mutation?: Mutation): void {
  let result: unknown;
  try {
    result = runbook(type).parse(raw);
  } catch (err) {
    const problem = refusalProblem(err, raw, mutation);
    if (problem) assert.fail(`${type}: ${problem}`);
    return;
  }
  const problem = acceptedProblem(type, raw, result);
  if (problem) assert.fail(`${type}: accepted ${mutation?.kind ?? 'input'} but ${problem}`);
}

describe('every workflow input against hostile values', () => {
  it('covers every workflow type the worker runs, with a valid input setting every field', () => {
    assert.deepEqual([...TYPES].sort(), Object.keys(workflows).sort());
    assert.deepEqual(Object.keys(VALID_INPUTS).sort(), [...TYPES].sort());
    for (const type of TYPES) {
      const parsed = runbook(type).parse(VALID_INPUTS[type]) as Record<string, unknown>;
      // A field the example leaves out shows up here as a default; each field must be reachable by a mutation.
      const unset = Object.keys(parsed).filter(
        (k) => !(k in VALID_INPUTS[type]) && !(DERIVED_FIELDS[type] ?? []).includes(k),
      );
      assert.deepEqual(unset, [], `${type}'s valid input leaves out fields`);
    }
  });

  for (const type of TYPES) {
    it(`${type}: refuses each broken input naming the field, or accepts it as it is`, () => {
      const valid = VALID_INPUTS[type];
      let refused = 0;
      fc.assert(
        fc.property(mutationOf(valid, hostileValue), (m) => {
          try {
            runbook(type).parse(m.input);
          } catch {
            refused += 1;
          }
          check(type, m.input, m);
        }),
        { seed: SEED, numRuns: RUNS },
      );
      // Most of what is generated is bad; a check that took nearly everything would not be checking.
      assert.ok(refused > RUNS / 4, `${type} refused only ${refused} of ${RUNS}`);
    });
  }

  it('refuses a field that is not there, whatever its name, naming it quoted and cut short', () => {
    for (const key of ['', 'a.b', ' ', 'x'.repeat(5000)]) {
      const raw = { ...VALID_INPUTS.maintenanceChecklist };
      Object.defineProperty(raw, key, { value: 1, enumerable: true });
      assert.throws(
        () => runbook('maintenanceChecklist').parse(raw),
        (err: Error) => {
          assert.equal(refusalProblem(err, raw), undefined);
          assert.match(err.message, /^(""|"a\.b"|" "|x{100}…): is not a field of maintenanceChecklist input$/);
          return true;
        },
      );
    }
  });
});
