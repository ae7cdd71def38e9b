/**
 * A workflow's audit trail: entries are queued in order and written in batches by one activity at a time,
 * outside any cancellation scope, so a cancelled step still leaves its record. Event keys are deterministic
 * (run + sequence), which makes every write idempotent.
 */
import { CancellationScope, condition, currentUpdateInfo, proxySinks, workflowInfo } from '@temporalio/workflow';
import type { AuditRecord, AuditSinks } from '../../contracts/audit';
import { recordAudit, recordAuditByActivity } from '../policies';

const MAX_BATCH = 100;

const { audit: auditSink } = proxySinks<AuditSinks>();

export type AuditEntry = Pick<
  AuditRecord,
  'step' | 'actor' | 'action' | 'outcome' | 'reason' | 'durationMs' | 'details'
>;

export class AuditTrail {
  private readonly queue: AuditRecord[] = [];
  private sequence = 0;
  private writing = false;

  private readonly byActivity: boolean;
  private readonly mergeRepeats: boolean;

  /**
   * @param options.byActivity write through a regular activity instead of a local one. A local activity holds its workflow
   * task open until it finishes, so a slow or failing audit write would delay every command issued beside it (an
   * emergency alert among them) until the task's heartbeat; a regular activity delays nothing.
   * @param options.mergeRepeats write a run of identical entries queued together (a flood of one re-fired alert, of
   * one refused decision) as one record counting them: a regular activity's input is kept in the history, and a
   * flood would otherwise put each entry there.
   */
  constructor(options: { byActivity?: boolean; mergeRepeats?: boolean } = {}) {
    this.byActivity = options.byActivity ?? false;
    this.mergeRepeats = options.mergeRepeats ?? false;
  }

  record(entry: AuditEntry): void {
    this.sequence += 1;
    this.queue.push(this.toRecord(entry, `${this.sequence}`));
    if (!this.writing) {
      this.writing = true;
      void CancellationScope.nonCancellable(() => this.drain());
    }
  }

  /**
   * Records an update its validator refused. A validator may issue no command (a refused update leaves no event
   * to replay it by), so the record goes through the worker's audit sink, written by the worker outside the
   * workflow; keyed by the update's ID, so a retried write (or a client's retry of the same update) adds nothing.
   */
  recordRefusedUpdate(entry: AuditEntry): void {
    const updateId = currentUpdateInfo()?.id ?? 'unknown';
    auditSink.refusedUpdate(this.toRecord(entry, `refused-update/${updateId}`));
  }

  private toRecord(entry: AuditEntry, key: string): AuditRecord {
    const info = workflowInfo();
    return {
      ...entry,
      // The audit log refuses empty names; a payload from outside must not be able to make a record it refuses.
      step: entry.step || 'unknown',
      actor: entry.actor || 'unknown',
      action: entry.action || 'unknown',
      outcome: entry.outcome || 'unknown',
      eventKey: `${info.workflowId}/${info.runId}/${key}`,
      occurredAt: new Date().toISOString(),
      workflowId: info.workflowId,
      workflowType: info.workflowType,
      runId: info.runId,
    };
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      // Everything queued while the previous batch was written goes in the next one.
      const batch = this.queue.slice(0, MAX_BATCH);
      const records = this.mergeRepeats ? mergeRepeats(batch) : batch;
      await (this.byActivity ? recordAuditByActivity(records) : recordAudit(records));
      this.queue.splice(0, batch.length);
    }
    this.writing = false;
  }

  /** Waits until every entry so far is written; call before the workflow returns. */
  async flush(): Promise<void> {
    await CancellationScope.nonCancellable(() => condition(() => this.queue.length === 0 && !this.writing));
  }
}

/**
 * Consecutive records saying the same thing as one: the first (its key, so a retried write stays idempotent), with
 * `repeated` (how many) and `lastAt` (when the last was queued) in its details.
 */
export function mergeRepeats(records: AuditRecord[]): AuditRecord[] {
  const merged: { key: string; record: AuditRecord; count: number }[] = [];
  for (const record of records) {
    const { step, actor, action, outcome, reason, durationMs, details } = record;
    const key = JSON.stringify([step, actor, action, outcome, reason, durationMs, details]);
    const last = merged[merged.length - 1];
    if (last?.key === key) {
      last.count += 1;
      last.record = { ...last.record, details: { ...details, repeated: last.count, lastAt: record.occurredAt } };
    } else {
      merged.push({ key, record, count: 1 });
    }
  }
  return merged.map((m) => m.record);
}
