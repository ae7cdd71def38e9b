/** dataBreachResponse's input, task reports, status query and result. */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { BreachTask, BreachTaskReport, EvidenceManifest } from '../../contracts/breach';
import type { GateStatus } from '../../contracts/gates';
import { dnsLabel, parseInput, wholeNumber, z } from '../../contracts/input';

export const dataBreachInputSchema = z
  .object({
    /** The deployment whose pods are affected: isolated (scaled to zero) and its evidence kept. */
    deployment: dnsLabel,
    /** Who reported the breach (roster id); recorded in the audit trail. */
    reportedBy: z.string().min(1).max(100),
    /** What was seen: shown to security and at the isolation gate. */
    summary: z.string().min(1).max(2000),
    /** How long the deployment's pods may take to go once scaled to zero. */
    isolateTimeoutSeconds: wholeNumber(10, 3600).default(300),
    /** How often security is reminded of the tasks still open. */
    remindEveryHours: wholeNumber(1, 168).default(4),
  })
  .strict();
export type DataBreachInput = z.input<typeof dataBreachInputSchema>;
export const parseDataBreachInput = (raw: unknown) => parseInput(dataBreachInputSchema, raw, 'dataBreachResponse');

export interface TaskState {
  task: BreachTask;
  done: boolean;
  by?: string;
  note?: string;
  at?: string;
}

export interface Isolation {
  approvedBy: string;
  previousReplicas: number;
  ingress: string;
  ingressFrom: { service: string; port: number };
  ingressTo: { service: string; port: number };
  /** True once the deployment reported no pods left; false: isolation not confirmed, people paged. */
  confirmed: boolean;
  detail?: string;
}

export interface DataBreachStatus {
  step: 'notifying' | 'preserving-evidence' | 'awaiting-isolation' | 'isolating' | 'tracking-tasks' | 'done';
  caseId: string;
  evidence?: EvidenceManifest;
  isolation?: Isolation;
  isolationRefused?: string;
  tasks: TaskState[];
  gates: GateStatus[];
}

export interface DataBreachResult {
  caseId: string;
  evidence: EvidenceManifest;
  isolation?: Isolation;
  isolationRefused?: string;
  tasks: TaskState[];
}

/** A person reports a task done: the signal from anywhere, the update where the caller should hear a refusal. */
export const breachTaskSignal = defineSignal<[BreachTaskReport]>('breachTask');
export const reportBreachTaskUpdate = defineUpdate<TaskState, [BreachTaskReport]>('reportBreachTask');
export const dataBreachStatusQuery = defineQuery<DataBreachStatus>('status');
