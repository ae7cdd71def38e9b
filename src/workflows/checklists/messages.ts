/** maintenanceChecklist's input, status query and result. */
import { defineQuery } from '@temporalio/workflow';
import type { GateStatus } from '../../contracts/gates';
import { oneOf, parseInput, z } from '../../contracts/input';

export const CADENCES = ['daily', 'weekly', 'monthly', 'quarterly'] as const;
export type Cadence = (typeof CADENCES)[number];

export const checklistInputSchema = z.object({ cadence: oneOf(CADENCES) }).strict();
export type ChecklistInput = z.input<typeof checklistInputSchema>;

export const parseChecklistInput = (raw: unknown) => parseInput(checklistInputSchema, raw, 'maintenanceChecklist');

export interface ChecklistItem {
  id: string;
  title: string;
  kind: 'automatic' | 'person';
  /** automatic: ok / attention / failed; person: done / not-done / missed. */
  status: 'ok' | 'attention' | 'failed' | 'done' | 'not-done' | 'missed';
  detail: string;
  /** For a person's task: who it was assigned to and who answered. */
  assignedTo?: string;
  by?: string;
}

export interface ChecklistResult {
  cadence: Cadence;
  startedAt: string;
  finishedAt: string;
  items: ChecklistItem[];
  /** Items that need someone's attention or were not done. */
  open: string[];
}

export const checklistStatusQuery = defineQuery<{ cadence: Cadence; items: ChecklistItem[]; gates: GateStatus[] }>(
  'status',
);
