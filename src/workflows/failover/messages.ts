/** failoverAiIngress's and failbackAiIngress's input, status query and result. */
import { defineQuery } from '@temporalio/workflow';
import type { GateStatus } from '../../contracts/gates';
import { parseInput, z } from '../../contracts/input';

export const ingressSwitchInputSchema = z
  .object({
    /** Who asks (roster id); recorded in the audit trail and shown at the gate. */
    requestedBy: z.string().min(1).max(100),
    reason: z.string().min(1).max(2000),
  })
  .strict();
export type IngressSwitchInput = z.input<typeof ingressSwitchInputSchema>;
export const parseIngressSwitchInput = (raw: unknown, what: string) => parseInput(ingressSwitchInputSchema, raw, what);

/** failover: the AI ingress to the backup service; failback: to the primary again. */
export type SwitchDirection = 'failover' | 'failback';

export type { ServiceHealth as TargetHealth } from '../common/service-health';
import type { ServiceHealth as TargetHealth } from '../common/service-health';

export interface IngressSwitchStatus {
  direction: SwitchDirection;
  step: 'checking-target' | 'awaiting-approval' | 'switching' | 'checking-after' | 'done' | 'refused';
  service?: string;
  before?: TargetHealth;
  after?: TargetHealth;
  gates: GateStatus[];
}

export interface IngressSwitchResult {
  direction: SwitchDirection;
  ingress: string;
  from: { service: string; port: number };
  to: { service: string; port: number };
  /** False when the ingress already pointed there. */
  changed: boolean;
  approvedBy: string;
  before: TargetHealth;
  after: TargetHealth;
}

export const ingressSwitchStatusQuery = defineQuery<IngressSwitchStatus>('status');
