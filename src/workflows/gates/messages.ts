/**
 * The names operators type in the Web UI and CLI; the same in every workflow that waits for people:
 *   temporal workflow signal --workflow-id ID --name decision --input '{"gate":"resolve","decision":"approve","by":"cto","reason":"..."}'
 *   temporal workflow update execute --workflow-id ID --name decide --input '{...same...}'
 *   temporal workflow query --workflow-id ID --type status
 */
import { defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Decision, GateOutcome } from '../../contracts/gates';

export const decisionSignal = defineSignal<[Decision]>('decision');
export const decideUpdate = defineUpdate<GateOutcome, [Decision]>('decide');
export const STATUS_QUERY = 'status';
