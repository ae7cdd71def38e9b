/**
 * Hostile input for every workflow of the catalog (src/client/runbooks.ts): one valid input of each with every field
 * set, so that breaking one thing in it reaches each field, and the fast-check arbitraries that break it. Shared by
 * the pure schema properties (test/chaos/input-schemas.test.ts) and the starts on a real worker
 * (test/chaos/hostile-starts.test.ts). Below them, hostile decisions for the gate every gated workflow waits at
 * (src/workflows/gates/gatekeeper.ts), shared by the files of test/gates/.
 */
import assert from 'node:assert/strict';
import { Client, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { defineQuery } from '@temporalio/workflow';
import fc from 'fast-check';
import { FailureType } from '../../src/contracts/failures';
import type { GateStatus } from '../../src/contracts/gates';
import { fieldName } from '../../src/contracts/input';
import type { WorkflowType } from '../../src/client/runbooks';
import { decideUpdate, decisionSignal, STATUS_QUERY } from '../../src/workflows/gates/messages';
import { queryUntil } from './temporal';

/** Fixed, so a failure is repeated by the next run; fast-check prints the counterexample it shrank to. */
export const SEED = 20261126;

/** A refusal is read by people and kept in history: whatever was sent, its message stays this short. */
export const MAX_REFUSAL_CHARS = 1000;

const remediation = {
  requestedBy: 'oncall',
  reason: 'hostile input drill',
  severity: 'P1',
  settleSeconds: 60,
  deployment: 'ai-gateway-service',
  openIncident: true,
  rolloutTimeoutSeconds: 600,
};
const backupId = '20261125T020000Z-1a2b3c4d';

/**
 * A valid input of each workflow type, every field of its schema set (the schema test checks that parsing adds no
 * field these leave out). Keyed by the catalog's type, so a workflow added without an entry does not compile.
 */
export const VALID_INPUTS: Record<WorkflowType, Record<string, unknown>> = {
  weddingDayCrisis: {
    failure: '2026-11-28T14:05:00Z',
    weddingId: 'w-1',
    withinMinutes: 60,
    description: 'crisis responses over 10 s',
    reportedBy: 'wedding-support',
  },
  incidentResponse: {
    severity: 'P1',
    service: 'ai-gateway-service',
    summary: '5xx above 10%',
    fingerprint: 'gw-5xx',
    monitor: { intervalSeconds: 300, healthyChecksRequired: 3, timeoutSeconds: 14_400 },
  },
  morningHealthCheck: { namespace: 'default' },
  eveningPerformanceReview: { trendDays: 7 },
  sundayMaintenanceWindow: { windowEnd: '2026-11-29T04:00:00Z', skip: ['model-update', 'cache'] },
  maintenanceChecklist: { cadence: 'weekly' },
  purgeCache: { pattern: 'ai:*', scanCount: 1000, unlinkBatch: 1000, allowUnprefixed: false },
  pruneOptimizations: { olderThanDays: 90, stopBy: '2026-03-01T04:00:00Z', targetBatchMs: 25 },
  restartDeployment: { deployment: 'ai-optimization-engine', timeoutSeconds: 600, namespace: 'default' },
  rollbackDeployment: {
    deployment: 'ai-optimization-engine',
    timeoutSeconds: 600,
    namespace: 'default',
    toRevision: 3,
  },
  monitorUntilHealthy: { intervalSeconds: 300, healthyChecksRequired: 3, timeoutSeconds: 14_400 },
  databaseBackup: { compressionLevel: 1 },
  modelBackup: { configMap: 'ai-model-config' },
  pruneBackups: { daily: 7, weekly: 4, monthly: 12, dryRun: true, now: '2026-11-29T04:00:00Z' },
  pruneModelBackups: { daily: 7, weekly: 4, monthly: 12, dryRun: true, now: '2026-11-29T04:00:00Z' },
  restoreDatabase: {
    backupId,
    target: { database: 'restore_drill' },
    requestedBy: 'oncall',
    reason: 'table dropped by a migration',
  },
  verifyBackup: { backupId, maxAgeHours: 30 },
  crisisManagerWatch: { intervalSeconds: 30, failuresToStart: 3, recoveriesToRearm: 3, roundsPerRun: 500 },
  recoverAiService: {
    backupId,
    requestedBy: 'oncall',
    reason: 'models corrupted',
    rolloutTimeoutSeconds: 600,
    target: { namespace: 'ai-dr-drill', models: { bucket: 'aiops-backups', prefix: 'drills/drill-1/models/' } },
  },
  disasterRecoveryDrill: {
    namespace: 'ai-dr-drill',
    modelBucket: 'aiops-backups',
    rtoMinutes: 60,
    rolloutTimeoutSeconds: 600,
    requestedBy: 'schedule',
  },
  failoverAiIngress: { requestedBy: 'oncall', reason: 'primary AI service down since 14:05' },
  failbackAiIngress: { requestedBy: 'oncall', reason: 'primary healthy again' },
  aiFallbackWatch: { intervalSeconds: 10, failureThreshold: 5, openSeconds: 60, roundsPerRun: 500 },
  completeOutageResponse: {
    summary: 'all AI services down',
    reportedBy: 'oncall',
    namespaces: ['default', 'ai'],
    recentHours: 24,
    rollback: true,
    rolloutTimeoutSeconds: 600,
    monitor: { intervalSeconds: 60, healthyChecksRequired: 3, timeoutSeconds: 3600 },
  },
  modelRetraining: {
    from: '2026-10-01T00:00:00Z',
    to: '2026-10-31T00:00:00Z',
    requestedBy: 'ai-lead',
    reason: 'accuracy 0.83',
  },
  modelAccuracyWatch: { hours: 24 },
  reviewTheologicalAlignment: {
    requestedBy: 'oncall',
    reason: 'faculty complaints',
    minAlignment: 0.9,
    reviewHours: 48,
    maxItems: 25,
  },
  resolveDatabaseConnections: {
    requestedBy: 'oncall',
    reason: 'connection pool exhausted',
    deployment: 'scrolluniversity-backend',
    longQuerySeconds: 300,
    rolloutTimeoutSeconds: 600,
  },
  rebuildVectorIndex: {
    requestedBy: 'oncall',
    reason: 'RAG queries failing',
    force: false,
    rebuildTimeoutSeconds: 3600,
    testQuery: 'salvation by grace through faith',
  },
  dataBreachResponse: {
    deployment: 'scrolluniversity-backend',
    reportedBy: 'security',
    summary: 'exfiltration seen',
    isolateTimeoutSeconds: 300,
    remindEveryHours: 4,
  },
  highAiCostsRemediation: remediation,
  slowAiResponsesRemediation: remediation,
  aiServiceFailuresRemediation: remediation,
  cacheMissesRemediation: remediation,
  budgetExceededResponse: remediation,
  highResponseTimesRemediation: {
    requestedBy: 'oncall',
    reason: 'optimisations over 10 s',
    severity: 'P1',
    settleSeconds: 60,
    responseTimeThresholdMs: 10_000,
    optimizationReplicas: 10,
    recommendationReplicas: 8,
    cacheCorrupted: true,
  },
  aiServiceOutageRemediation: {
    requestedBy: 'oncall',
    reason: '503 from /ai/ since 14:05',
    rolloutTimeoutSeconds: 600,
    deployment: 'ai-optimization-engine',
    settleSeconds: 30,
  },
};

/** Fields a parser derives from the input rather than reads from it: left out when its result is parsed again. */
export const DERIVED_FIELDS: Partial<Record<WorkflowType, string[]>> = { pruneOptimizations: ['stopAt'] };

type Path = (string | number)[];

/** What was broken: a field replaced or removed, a key added, or the whole input replaced. */
export interface Mutation {
  kind: 'replace' | 'remove' | 'add-key' | 'whole';
  /** The field broken, or the key added; empty for the whole input. */
  path: Path;
  input: unknown;
}

/** Nested `depth` levels deep, as objects or arrays: a parser that recurses into it must not overflow. */
const nested = (depth: number, asArray: boolean): unknown => {
  let v: unknown = 'bottom';
  for (let i = 0; i < depth; i++) v = asArray ? [v] : { a: v };
  return v;
};

/** An object with the key as an own property, as JSON.parse makes one: `obj[key] = v` would set `__proto__` instead. */
function withOwn(target: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  return target;
}

const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', 'then'];

/** Strings chosen to break parsers, regexes, SQL, shells and terminals, and arbitrary ones. */
const hostileString = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    '\n',
    '\u202e',
    '💥💥',
    '-1',
    'NaN',
    'null',
    'true',
    '2026-13-45T99:99:99Z',
    '+275760-09-13T00:00:00.001Z',
    "'; DROP TABLE optimizations; --",
    '$(rm -rf /)',
    '../../etc/passwd',
    '*',
    'x'.repeat(100_000),
    ...PROTOTYPE_KEYS,
  ),
  fc.string({ maxLength: 300 }),
  fc.string({ unit: 'binary', maxLength: 300 }),
);

/** Numbers JSON can carry, at and past every bound a schema sets. */
const hostileNumber = fc.oneof(
  fc.constantFrom(0, -0, -1, 1.5, 0.1, 2 ** 31, 2 ** 53 + 2, 1e308, -1e308, 5e-324),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

/** Objects shaped to trip up code that reads them: prototype keys as own properties, thenables, deep nesting. */
const hostileObject = fc.oneof(
  fc
    .constantFrom(0, 1, 2, 3)
    .map((i) =>
      [
        () => JSON.parse('{"__proto__":{"polluted":true}}') as unknown,
        () => ({ constructor: { prototype: { polluted: true } } }),
        () => ({ toString: 1, valueOf: 'x', then: 1 }),
        () => ({ length: -1, 0: 'a' }),
      ][i](),
    ),
  fc.integer({ min: 50, max: 2000 }).chain((depth) => fc.boolean().map((asArray) => nested(depth, asArray))),
);

/** Any JSON a client can send in place of a field or of the whole input. */
export const hostileJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 3, arbitrary: hostileString },
  { weight: 3, arbitrary: hostileNumber },
  { weight: 2, arbitrary: hostileObject },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, [], {}) },
);

/** What only an in-process caller can pass: values JSON cannot carry (a client's JSON turns NaN into null). */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: hostileJson },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(0, 1, 2, 3, 4, 5, 6)
      .map((i) => [NaN, Infinity, -Infinity, undefined, 10n, new Date(NaN), Object.create(null) as object][i]),
  },
);

/**
 * Every path into a value, to nested objects and arrays, named as a refusal names a field; bounded, for deep hostile
 * values. Mapped to the path's parent, for finding a field's siblings.
 */
export function pathsOf(value: unknown, prefix: Path = [], out = new Map<string, string>(), depth = 0) {
  if (depth > 8 || typeof value !== 'object' || value === null) return out;
  for (const key of Object.keys(value)) {
    const path = [...prefix, key];
    out.set(fieldName(path), fieldName(prefix));
    pathsOf((value as Record<string, unknown>)[key], path, out, depth + 1);
  }
  return out;
}

/** The paths of a valid input that a mutation may break: every field, and every field of a nested object. */
function fieldPaths(value: Record<string, unknown>, prefix: Path = []): Path[] {
  return Object.entries(value).flatMap(([key, v]) => {
    const path = [...prefix, key];
    return typeof v === 'object' && v !== null && !Array.isArray(v)
      ? [path, ...fieldPaths(v as Record<string, unknown>, path)]
      : Array.isArray(v)
        ? [path, ...v.map((_, i) => [...path, i])]
        : [path];
  });
}

/** The objects of a valid input a key may be added to: the input itself and each nested object. */
function objectPaths(value: Record<string, unknown>, prefix: Path = []): Path[] {
  return [
    prefix,
    ...Object.entries(value).flatMap(([key, v]) =>
      typeof v === 'object' && v !== null && !Array.isArray(v)
        ? objectPaths(v as Record<string, unknown>, [...prefix, key])
        : [],
    ),
  ];
}

function at(root: unknown, path: Path): Record<string, unknown> {
  return path.reduce((v, k) => (v as Record<string | number, unknown>)[k], root) as Record<string, unknown>;
}

/**
 * One thing broken in a valid input: a field replaced by `values`, a field removed, an unknown key added (prototype
 * keys as own properties among them), or the whole input replaced.
 */
export function mutationOf(valid: Record<string, unknown>, values: fc.Arbitrary<unknown>): fc.Arbitrary<Mutation> {
  const clone = () => structuredClone(valid);
  const fields = fieldPaths(valid);
  const replace = fc.tuple(fc.constantFrom(...fields), values).map(([path, value]): Mutation => {
    const input = clone();
    at(input, path.slice(0, -1))[path[path.length - 1]] = value;
    return { kind: 'replace', path, input };
  });
  const remove = fc.constantFrom(...fields).map((path): Mutation => {
    const input = clone();
    const parent = at(input, path.slice(0, -1));
    if (Array.isArray(parent)) parent.splice(Number(path[path.length - 1]), 1);
    else delete parent[path[path.length - 1]];
    return { kind: 'remove', path, input };
  });
  const addKey = fc
    .tuple(
      fc.constantFrom(...objectPaths(valid)),
      fc.oneof(fc.constantFrom(...PROTOTYPE_KEYS, '', '.', 'a.b', 'x'.repeat(5000)), fc.string({ maxLength: 40 })),
      values,
    )
    .filter(([parent, key]) => !Object.hasOwn(at(valid, parent), key))
    .map(([parent, key, value]): Mutation => {
      const input = clone();
      withOwn(at(input, parent), key, value);
      return { kind: 'add-key', path: [...parent, key], input };
    });
  const whole = values.map((input): Mutation => ({ kind: 'whole', path: [], input }));
  return fc.oneof(
    { weight: 4, arbitrary: replace },
    { weight: 2, arbitrary: remove },
    { weight: 2, arbitrary: addKey },
    { weight: 1, arbitrary: whole },
  );
}

/** The input as the worker receives it from a client: through JSON. */
export const overTheWire = (value: unknown): unknown =>
  value === undefined ? undefined : (JSON.parse(JSON.stringify(value)) as unknown);

/**
 * Why `err` is not the refusal a bad input must get, or undefined when it is: the non-retryable InvalidInput whose
 * message starts with the field at fault and stays short, the field being one the input has, one it lacks ("is
 * required"), the input itself, or one a rule across fields names while naming the field given. With `mutation`,
 * the field must also be the one broken (or the object it is in, or one inside it).
 */
export function refusalProblem(err: unknown, raw: unknown, mutation?: Mutation): string | undefined {
  if (!(err instanceof ApplicationFailure)) return `threw ${String(err)}, not an ApplicationFailure`;
  if (err.type !== FailureType.InvalidInput) return `failure type ${err.type}, not InvalidInput`;
  if (!err.nonRetryable) return 'the refusal is retryable';
  if (err.message.length > MAX_REFUSAL_CHARS) return `a message of ${err.message.length} characters`;
  const field = (err.details?.[0] as { field?: unknown } | undefined)?.field;
  if (typeof field !== 'string' || !field) return `no field in the failure's details: ${err.message}`;
  if (!err.message.startsWith(`${field}: `)) return `message does not start with its field "${field}": ${err.message}`;
  const problem = err.message.slice(field.length + 2);
  const present = pathsOf(raw);
  const parentOf = (name: string) => (name.includes('.') ? name.slice(0, name.lastIndexOf('.')) : '');
  const parent = parentOf(field);
  const parentPresent = parent === '' || present.has(parent);
  /** A rule across fields (a watch too long for its interval) names one field and, in its message, the other. */
  const namesSibling = (sibling: string) =>
    parentPresent &&
    present.get(sibling) === parent &&
    problem.includes(parent ? sibling.slice(parent.length + 1) : sibling);
  const named =
    (field === 'input' && problem === 'must be a JSON object') ||
    present.has(field) ||
    (problem === 'is required' && parentPresent) ||
    [...present.keys()].some(namesSibling);
  if (!named) return `field "${field}" is neither in the input nor required: ${err.message}`;
  if (!mutation || mutation.kind === 'whole') return undefined;
  const broken = fieldName(mutation.path);
  const related =
    field === broken ||
    field.startsWith(`${broken}.`) ||
    broken.startsWith(`${field}.`) ||
    (mutation.kind !== 'add-key' && parentOf(broken) === parent && namesSibling(broken)) ||
    // A field removed is not in the input any more: the rule across fields names it all the same.
    (mutation.kind === 'remove' && problem.includes(String(mutation.path[mutation.path.length - 1])));
  return related ? undefined : `broke "${broken}" (${mutation.kind}) but the refusal names "${field}": ${err.message}`;
}

/** Fixed for the gate properties, so a failure is repeated by the next run; fast-check prints what it shrank to. */
export const GATE_SEED = 20261125;

/** Anyone's id but a roster member's, so no generated decision can be a valid one. */
const stranger = fc.oneof(fc.constantFrom('', 'mallory', ' ', 'x'.repeat(5000)), fc.jsonValue());
const GATE_NAMES = ['resolve', 'acknowledge', 'analyze-cost-trends', 'nope', ''];

/**
 * JSON as a client can send it to a gate: anything, and things shaped like a decision with every field possibly
 * wrong, aimed at `gates` (the workflow's own) among others.
 */
export function decisionPayload(gates: string[] = []): fc.Arbitrary<unknown> {
  const anyGate = fc.oneof(fc.constantFrom(...GATE_NAMES, ...gates), fc.jsonValue());
  return fc.oneof(
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
}

const hex = (length: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: length, maxLength: length });

/**
 * A decision from someone who may decide at `gate`, with its proof (signature, nonce, expiry) forged or malformed:
 * what reaches the workflow when a client does not sign, or signs with a key that is not theirs.
 */
export const forgedDecision = (gate: string, by: string, nowMs: number) =>
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

/** How the gate words a refusal: the field at fault first, or the decision as a whole, or the gate it named. */
const GATE_REFUSAL = /^(?:(?:gate|decision|by|reason|link|choice|signature|nonce|expiresAt)[: ]|a decision must be)/;

/** The update's refusal, or why it is not one the gate should give: it took the decision, or failed otherwise. */
async function refusedUpdate(handle: WorkflowHandle, payload: unknown): Promise<void> {
  const err: unknown = await handle.executeUpdate(decideUpdate, { args: [payload as never] }).then(
    (outcome) => assert.fail(`the gate took ${JSON.stringify(payload)?.slice(0, 300)}: ${JSON.stringify(outcome)}`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof WorkflowUpdateFailedError, String(err));
  const message = (err.cause as { message?: string } | undefined)?.message ?? '';
  assert.match(message, GATE_REFUSAL);
  assert.ok(message.length <= MAX_REFUSAL_CHARS, `a refusal of ${message.length} characters`);
}

export async function workflowTaskFailures(handle: WorkflowHandle): Promise<number> {
  const history = await handle.fetchHistory();
  return (history.events ?? []).filter((e) => e.workflowTaskFailedEventAttributes).length;
}

/** Every gated workflow answers the query `status` with its open gates (among the rest of its status). */
const gatesQuery = defineQuery<{ gates: GateStatus[] }>(STATUS_QUERY);

/** Waits until the workflow's gate `gate` is open, failing with its status after `timeoutMs`. */
export const gateOpen = (handle: WorkflowHandle, gate: string, timeoutMs = 30_000) =>
  queryUntil(handle, gatesQuery, (s) => s.gates.some((g) => g.gate === gate), timeoutMs);

/**
 * Sends each generated payload as the signal and as the update: the update must be refused, naming what is wrong,
 * and nothing may fail a workflow task. `gates` are the workflow's own, aimed at among others.
 */
export async function bombard(
  handle: WorkflowHandle,
  options: { gates?: string[]; numRuns?: number } = {},
): Promise<void> {
  await sendRefused(handle, handle, decisionPayload(options.gates), options.numRuns ?? 60, 'payload');
}

/**
 * Sends each of `payloads` through `sender` (a handle on `handle`'s workflow) as the signal and as the update: the
 * update must be refused, naming what is wrong; then no `what` may have failed a workflow task of `handle`.
 */
async function sendRefused(
  sender: WorkflowHandle,
  handle: WorkflowHandle,
  payloads: fc.Arbitrary<unknown>,
  numRuns: number,
  what: string,
): Promise<void> {
  await fc.assert(
    fc.asyncProperty(payloads, async (p) => {
      await sender.signal(decisionSignal, p as never);
      await refusedUpdate(sender, p);
    }),
    { seed: GATE_SEED, numRuns },
  );
  assert.equal(await workflowTaskFailures(handle), 0, `no ${what} may fail a workflow task`);
}

/**
 * Sends decisions with forged or malformed proofs, as `by` (who may decide at `gate`), from a client that does not
 * sign: each update must be refused and no signal may decide the gate.
 */
export async function forge(
  env: TestWorkflowEnvironment,
  handle: WorkflowHandle,
  gate: string,
  by: string,
  options: { numRuns?: number } = {},
): Promise<void> {
  const unsigned = new Client({
    connection: env.connection,
    namespace: env.namespace ?? 'default',
  }).workflow.getHandle(handle.workflowId);
  const nowMs = await env.currentTimeMs();
  await sendRefused(unsigned, handle, forgedDecision(gate, by, nowMs), options.numRuns ?? 40, 'forged decision');
}

/**
 * The whole of it at one gate of a running workflow: waits for `gate` to open, bombards it, forges decisions as
 * `by` (one who may decide there), and checks the gate is still open: nothing sent decided it. The valid decision
 * that follows, and what it must lead to, are the test's.
 */
export async function assaultGate(
  env: TestWorkflowEnvironment,
  handle: WorkflowHandle,
  options: { gate: string; by: string; gates?: string[]; bombardRuns?: number; forgeRuns?: number },
): Promise<void> {
  await gateOpen(handle, options.gate);
  await bombard(handle, { gates: options.gates ?? [options.gate], numRuns: options.bombardRuns ?? 30 });
  await forge(env, handle, options.gate, options.by, { numRuns: options.forgeRuns ?? 20 });
  const { gates } = await handle.query(gatesQuery);
  assert.ok(
    gates.some((g) => g.gate === options.gate),
    `gate ${options.gate} still open after the assault: ${JSON.stringify(gates.map((g) => g.gate))}`,
  );
}

/**
 * `n` copies of a decision signed by someone who may decide, each with a nonce of its own and the original's
 * signature: well formed, from a real approver, not seen before, so that only verifying the signature refuses it,
 * and at full cost (the signature's point is a valid one, which random hex often is not).
 */
export function forgedCopies(signed: { nonce: string; signature: string }, n: number): unknown[] {
  return Array.from({ length: n }, (_, i) => ({ ...signed, nonce: `forged-${String(i).padStart(10, '0')}` }));
}
