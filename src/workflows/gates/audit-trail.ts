/**
 * A workflow's audit trail: entries are queued in order and written in batches by one activity at a time,
 * outside any cancellation scope, so a cancelled step still leaves its record. Event keys are deterministic
 * (run + sequence), which makes every write idempotent.
 */
import { CancellationScope, condition, workflowInfo } from '@temporalio/workflow';
import type { AuditRecord } from '../../contracts/audit';
import { recordAudit, recordAuditByActivity } from '../policies';

const MAX_BATCH = 100;

export type AuditEntry = Pick<
  AuditRecord,
  'step' | 'actor' | 'action' | 'outcome' | 'reason' | 'durationMs' | 'details'
>;

export class AuditTrail {
  private readonly queue: AuditRecord[] = [];
  private sequence = 0;
  private writing = false;

  private readonly byActivity: boolean;

  /**
   * @param options.byActivity write through a regular activity instead of a local one. A local activity holds its workflow
   * task open until it finishes, so a slow or failing audit write would delay every command issued beside it (an
   * emergency alert among them) until the task's heartbeat; a regular activity delays nothing.
   */
  constructor(options: { byActivity?: boolean } = {}) {
    this.byActivity = options.byActivity ?? false;
  }

  record(entry: AuditEntry): void {
    const info = workflowInfo();
    this.sequence += 1;
    this.queue.push({
      ...entry,
      // The audit log refuses empty names; a payload from outside must not be able to make a record it refuses.
      step: entry.step || 'unknown',
      actor: entry.actor || 'unknown',
      action: entry.action || 'unknown',
      outcome: entry.outcome || 'unknown',
      eventKey: `${info.workflowId}/${info.runId}/${this.sequence}`,
      occurredAt: new Date().toISOString(),
      workflowId: info.workflowId,
      workflowType: info.workflowType,
      runId: info.runId,
    });
    if (!this.writing) {
      this.writing = true;
      void CancellationScope.nonCancellable(() => this.drain());
    }
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      // Everything queued while the previous batch was written goes in the next one.
      const batch = this.queue.slice(0, MAX_BATCH);
      await (this.byActivity ? recordAuditByActivity(batch) : recordAudit(batch));
      this.queue.splice(0, batch.length);
    }
    this.writing = false;
  }

  /** Waits until every entry so far is written; call before the workflow returns. */
  async flush(): Promise<void> {
    await CancellationScope.nonCancellable(() => condition(() => this.queue.length === 0 && !this.writing));
  }
}
