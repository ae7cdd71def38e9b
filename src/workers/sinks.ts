/**
 * The worker's side of the audit sink (src/contracts/audit.ts): records of refused updates, which workflow code
 * cannot write through an activity. A sink call is fire-and-forget and not retried by Temporal, so the write is
 * tried a few times here; it is idempotent (the record's key is the update's ID), so a repeat adds nothing.
 */
import type { InjectedSinks } from '@temporalio/worker';
import type { AuditRecord, AuditSinks } from '../contracts/audit';

const ATTEMPTS = 5;
const RETRY_DELAY_MS = 1000;

export function auditSinks(
  recordAudit: (records: AuditRecord[]) => Promise<void>,
  onFailure: (err: unknown, record: AuditRecord) => void = (err, record) =>
    console.error(`audit: refused update ${record.eventKey} not recorded: ${String(err)}`),
): InjectedSinks<AuditSinks> {
  return {
    audit: {
      refusedUpdate: {
        fn: (_info, record) => {
          void (async () => {
            for (let attempt = 1; ; attempt++) {
              try {
                await recordAudit([record]);
                return;
              } catch (err) {
                if (attempt >= ATTEMPTS) return onFailure(err, record);
                await new Promise((r) => setTimeout(r, RETRY_DELAY_MS * attempt));
              }
            }
          })();
        },
        // Validators do not run on replay; a refused update has no event to replay it by.
        callDuringReplay: false,
      },
    },
  };
}
