/**
 * What the gated remediations that are not `RemediationRun`s share: an audit trail, a gatekeeper named after the
 * workflow, one way to tell their audience, and the ending: the verification recorded, then either a page and a
 * non-retryable RemediationFailed, or a message that it is fixed.
 */
import { ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import { FailureType } from '../../contracts/failures';
import type { Audience } from '../../contracts/roster';
import { AuditTrail } from './audit-trail';
import { Gatekeeper } from './gatekeeper';

export interface Verification {
  /** The audit step name the verification is recorded under. */
  step: string;
  fixed: boolean;
  summary: string;
  /** Why it failed, for the failure; the page adds `hint`. */
  failure: string;
  hint: string;
  details?: unknown[];
}

/** `tag` prefixes every message; the gatekeeper is `<gatePrefix>-<workflow id>`, as running workflows have it. */
export function gatedRemediation(tag: string, gatePrefix: string, audience: Audience) {
  const { workflowId } = workflowInfo();
  const audit = new AuditTrail();
  const gates = new Gatekeeper(audit, `${gatePrefix}-${workflowId}`);
  const tell = (message: string, urgency: 'page' | 'message') =>
    gates.pager.tell({
      audience,
      urgency,
      severity: urgency === 'page' ? 'error' : 'info',
      dedupKey: gates.pager.dedupKey,
      message: `[${tag}] ${message} (workflow ${workflowId})`,
    });

  /** Records the verification and ends the run: resolves when fixed, throws RemediationFailed (after a page) if not. */
  async function conclude(status: { step: string }, v: Verification): Promise<void> {
    audit.record({
      step: v.step,
      actor: 'workflow',
      action: 'verify',
      outcome: v.fixed ? 'fixed' : 'not-fixed',
      reason: v.summary,
    });
    if (!v.fixed) {
      status.step = 'escalated';
      await tell(`${v.failure}; ${v.hint}`, 'page');
      await audit.flush();
      throw ApplicationFailure.create({
        type: FailureType.RemediationFailed,
        message: v.failure,
        details: v.details,
        nonRetryable: true,
      });
    }
    status.step = 'done';
    await tell(v.summary, 'message');
    await audit.flush();
  }

  return { audit, gates, tell, conclude };
}
