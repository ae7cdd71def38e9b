/** Opens an incident as a child that outlives its parent, or joins the one already open for the same fingerprint. */
import { getExternalWorkflowHandle, ParentClosePolicy, startChild } from '@temporalio/workflow';
import { isAlreadyStarted } from '../../contracts/failures';
import { alertSignal, incidentWorkflowId, type IncidentInput } from './messages';

export async function openOrJoinIncident(
  input: IncidentInput & { fingerprint: string },
): Promise<{ workflowId: string; outcome: 'opened' | 'joined' }> {
  const workflowId = incidentWorkflowId(input.fingerprint);
  try {
    // The incident outlives the workflow that found it: abandoned, not terminated, when that one ends.
    await startChild('incidentResponse', { workflowId, args: [input], parentClosePolicy: ParentClosePolicy.ABANDON });
    return { workflowId, outcome: 'opened' };
  } catch (err) {
    if (!isAlreadyStarted(err)) throw err;
    await getExternalWorkflowHandle(workflowId).signal(alertSignal, { summary: input.summary });
    return { workflowId, outcome: 'joined' };
  }
}
