/**
 * Hands one alert to the runbook its route names. Keyed by the alert's fingerprint, so Alertmanager's re-sends and
 * retries reach the run already there (signal-with-start) instead of starting a second one; a resolved alert only
 * reaches a running workflow, never starts one.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { alertCrisis } from '../client/crisis';
import {
  alertResolvedSignal,
  alertSignal,
  incidentWorkflowId,
  type IncidentInput,
} from '../workflows/incident/messages';
import type { AlertRoute } from './routes';
import type { WebhookAlert } from './webhook';

export interface Delivery {
  workflowId: string;
  outcome: 'signalled' | 'no-run';
}

const SUMMARY_LIMIT = 1000;

export function alertSummary(alert: WebhookAlert): string {
  const text = alert.annotations.summary || alert.annotations.description || alert.labels.alertname;
  return text.slice(0, SUMMARY_LIMIT);
}

/** Delivers an alert; `firings` > 1 when it stands for re-fires the receiver held back and counted. */
export async function deliverAlert(
  client: Client,
  taskQueue: string,
  alert: WebhookAlert,
  route: AlertRoute,
  firings = 1,
): Promise<Delivery> {
  const summary = alertSummary(alert);
  if (route.runbook.kind === 'crisis') {
    const result = await alertCrisis(client, taskQueue, {
      fingerprint: alert.fingerprint,
      status: alert.status,
      summary,
      startsAt: alert.startsAt,
    });
    return { workflowId: result.workflowId, outcome: result.outcome };
  }
  const { severity, service } = route.runbook;
  const workflowId = incidentWorkflowId(alert.fingerprint);
  if (alert.status === 'resolved') {
    try {
      await client.workflow.getHandle(workflowId).signal(alertResolvedSignal, { endsAt: alert.endsAt });
      return { workflowId, outcome: 'signalled' };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return { workflowId, outcome: 'no-run' };
      throw err;
    }
  }
  const input: IncidentInput = { severity, service, summary, fingerprint: alert.fingerprint };
  await client.workflow.signalWithStart('incidentResponse', {
    taskQueue,
    workflowId,
    args: [input],
    signal: alertSignal,
    signalArgs: [{ summary, severity, ...(firings > 1 && { firings }) }],
  });
  return { workflowId, outcome: 'signalled' };
}
