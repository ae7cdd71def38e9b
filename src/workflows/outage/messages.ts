/** completeOutageResponse's input, status query and result. */
import { defineQuery } from '@temporalio/workflow';
import { dnsLabel, optionalObject, parseInput, wholeNumber, z } from '../../contracts/input';
import type { MonitorState } from '../operations/monitor/messages';

export const completeOutageInputSchema = optionalObject({
  /** What is down, in a sentence: it goes into every page and status update. */
  summary: z.string().min(1).max(500).default('all AI services down'),
  reportedBy: z.string().min(1).max(100).default('operator'),
  /** Namespaces whose pods are listed (`kubectl get pods -A` over the ones we may read); absent: K8S_AI_NAMESPACE. */
  namespaces: z.array(dnsLabel).min(1).max(20).optional(),
  /** A deployment whose current revision is younger than this, with an earlier one, is rolled back to that one. */
  recentHours: wholeNumber(1, 24 * 30).default(24),
  /** Set false to look and monitor without rolling anything back. */
  rollback: z.boolean().default(true),
  rolloutTimeoutSeconds: wholeNumber(10, 3600).default(600),
  /** Monitoring after each step of the restore (monitorUntilHealthy). */
  monitor: z
    .object({
      intervalSeconds: wholeNumber(1, 3600).default(60),
      healthyChecksRequired: wholeNumber(1, 100).default(3),
      timeoutSeconds: wholeNumber(60, 24 * 3600).default(3600),
    })
    .strict()
    .default({}),
});
export type CompleteOutageInput = z.input<typeof completeOutageInputSchema>;
export const parseCompleteOutageInput = (raw: unknown) =>
  parseInput(completeOutageInputSchema, raw, 'completeOutageResponse');

export interface NamespacePods {
  namespace: string;
  pods: number;
  notReady: string[];
  /** Why the pods could not be listed, when they could not. */
  problem?: string;
}

export interface DeploymentHistory {
  deployment: string;
  current?: number;
  currentSince?: string;
  /** The revision a rollback returns to, fixed here once and passed to the undo. */
  previous?: number;
  recent: boolean;
  problem?: string;
}

export interface RestoreStep {
  deployment?: string;
  rolledBack?: { from: number; to: number };
  problem?: string;
  monitoring?: Pick<MonitorState, 'resolved' | 'consecutiveHealthy'> & { rounds: number };
}

export interface CompleteOutageResult {
  pods: NamespacePods[];
  history: DeploymentHistory[];
  restore: RestoreStep[];
  restored: boolean;
}

export interface CompleteOutageStatus {
  step: 'paging' | 'pods' | 'history' | 'restoring' | 'monitoring' | 'done';
  pods: NamespacePods[];
  history: DeploymentHistory[];
  restore: RestoreStep[];
}

export const outageStatusQuery = defineQuery<CompleteOutageStatus>('status');
