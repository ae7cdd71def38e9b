/**
 * The monthly disaster recovery drill (seed 000 Monthly Maintenance, "Conduct disaster recovery drill"): its input,
 * its report, and the record the monthly checklist reads. Workflow-safe.
 */
import { dnsLabel, optionalObject, parseInput, wholeNumber, z } from './input';

/** The label a drill puts on the scratch namespace it makes; the Kubernetes activities act there only with it. */
export const DRILL_NAMESPACE_LABEL = 'aiops-runbooks/dr-drill';

/** How recent a passed drill must be for the monthly checklist: a month and a few days' slack for the schedule. */
export const DRILL_MAX_AGE_DAYS = 35;

export const drillInputSchema = optionalObject({
  /** The scratch namespace the recovery runs in; absent, the configured one (DR_DRILL_NAMESPACE). */
  namespace: dnsLabel.optional(),
  /** The bucket the scratch model folder is in; absent, the backup bucket. Never the serving model bucket. */
  modelBucket: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name')
    .optional(),
  /** The recovery time objective the drill is measured against; absent, the configured one (DR_RTO_MINUTES). */
  rtoMinutes: wholeNumber(1, 24 * 60).optional(),
  /** How long each scratch engine's rollout may take. */
  rolloutTimeoutSeconds: wholeNumber(10, 3600).default(600),
  /** Who asked; recorded in the audit trail. */
  requestedBy: z.string().min(1).max(100).default('schedule'),
});
export type DrillInput = z.input<typeof drillInputSchema>;
export const parseDrillInput = (raw: unknown) => parseInput(drillInputSchema, raw, 'disasterRecoveryDrill');

/** What the drill needs from configuration: where production is (so it is refused) and the defaults. */
export interface DrillPlan {
  /** The namespaces the runbooks act on for real: a drill may run in none of them. */
  productionNamespaces: string[];
  scratchNamespace: string;
  /** The serving model bucket: a drill may not restore into it. */
  servingBucket: string;
  backupBucket: string;
  rtoMinutes: number;
}

export interface DrillStep {
  /** A drill step, or one of the AI recovery's own steps as `recover-ai-service/<step>`. */
  step: string;
  startedAt: string;
  durationMs: number;
  ok: boolean;
  /** Counted in the measured recovery time: the steps a real recovery would take. */
  inRecoveryTime: boolean;
  detail?: string;
}

export interface DrillReport {
  drillId: string;
  workflowId: string;
  namespace: string;
  /** The throwaway database and the backup restored into it. */
  database?: { name: string; backupId: string; tables: number; rows: number };
  /** The scratch model folder and the model backup recovered from. */
  models: { bucket: string; prefix: string; backupId?: string };
  startedAt: string;
  finishedAt: string;
  steps: DrillStep[];
  /** The sum of the steps counted in the recovery time. */
  recoveryMs: number;
  rtoMinutes: number;
  withinRto: boolean;
  /** The recovery completed, within the RTO. */
  passed: boolean;
  failedStep?: string;
  reason?: string;
  /** What cleanup could not remove. */
  leftovers: string[];
}

/** The newest drill record and the newest that passed, as the monthly checklist reads them. */
export interface LatestDrill {
  bucket: string;
  last?: { drillId: string; finishedAt: string; passed: boolean; failedStep?: string; reason?: string };
  lastPassed?: { drillId: string; finishedAt: string; ageDays: number; recoveryMs: number; rtoMinutes: number };
}
