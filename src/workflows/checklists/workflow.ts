/**
 * ScrollUniversity "Maintenance Procedures", seed 000: the daily, weekly, monthly and quarterly checklists.
 * Items a machine can check run as activities; the others become tasks at an approval gate, assigned to a
 * role with a deadline (approve = done, with a note; reject = not done, with the reason). The result is the
 * completed checklist; an item nobody did by its deadline is "missed", and the workflow still completes.
 * Started by the schedules scrolluniversity-daily-checklist, scrolluniversity-weekly-checklist,
 * scrolluniversity-monthly-checklist and scrolluniversity-quarterly-checklist (src/schedules/table.ts); by hand:
 *
 *   temporal workflow start --type maintenanceChecklist --task-queue aiops-runbooks --input '{"cadence":"weekly"}'
 *   temporal workflow signal --workflow-id <id> --name decision \
 *     --input '{"gate":"analyze-cost-trends","decision":"approve","by":"ai-lead","reason":"spend flat week on week"}'
 */
import { patched, setHandler, workflowInfo } from '@temporalio/workflow';
import { failureText } from '../../contracts/failures';
import { AuditTrail } from '../gates/audit-trail';
import { Gatekeeper } from '../gates/gatekeeper';
import { loadDirectory } from '../policies';
import { CHECKLISTS, TASK_DEADLINE, type ItemSpec } from './items';
import {
  checklistStatusQuery,
  parseChecklistInput,
  type ChecklistInput,
  type ChecklistItem,
  type ChecklistResult,
} from './messages';

export async function maintenanceChecklist(input: ChecklistInput): Promise<ChecklistResult> {
  const { cadence } = parseChecklistInput(input);
  // Decided before any command: an item checked since a patch is a person's task in checklists started before it.
  const specs = CHECKLISTS[cadence].map((spec): ItemSpec => {
    if (!spec.checkedSincePatch) return spec;
    return patched(spec.checkedSincePatch) ? { ...spec, role: undefined } : { ...spec, check: undefined };
  });
  const startedAt = new Date().toISOString();
  const audit = new AuditTrail();
  const gates = new Gatekeeper(audit, workflowInfo().workflowId);
  const items: ChecklistItem[] = [];
  setHandler(checklistStatusQuery, () => ({ cadence, items, gates: gates.status() }));
  gates.setRoster((await loadDirectory()).members);

  const deadline = TASK_DEADLINE[cadence];
  const byRole = new Map<string, ItemSpec[]>();
  for (const spec of specs) if (spec.role) byRole.set(spec.role, [...(byRole.get(spec.role) ?? []), spec]);
  // A task nobody was told of is still at its gate, with its deadline; the status query shows it. The roles are
  // told side by side and the tasks open meanwhile; checklists from before the channels were apart told each role
  // in turn first, and replay the same way.
  const told: Promise<string[]>[] = [];
  for (const [role, tasks] of byRole) {
    const due = new Date(Date.now() + deadline).toISOString();
    const telling = gates.pager.tell({
      audience: { roles: [role] },
      urgency: 'message',
      severity: 'info',
      dedupKey: `${workflowInfo().workflowId}/${role}`,
      message: `[${cadence} maintenance] yours by ${due}: ${tasks.map((t) => `${t.title} (gate ${t.id})`).join('; ')}`,
    });
    if (gates.pager.channelsApart) told.push(telling);
    else await telling;
  }

  const results = await Promise.all(
    specs
      .map(async (spec): Promise<ChecklistItem> => {
        if (spec.check) {
          try {
            const { ok, detail } = await spec.check();
            return { id: spec.id, title: spec.title, kind: 'automatic', status: ok ? 'ok' : 'attention', detail };
          } catch (err) {
            return { id: spec.id, title: spec.title, kind: 'automatic', status: 'failed', detail: failureText(err) };
          }
        }
        const outcome = await gates.wait({
          name: spec.id,
          prompt: `[${cadence} maintenance] ${spec.title}: approve when done (reason: what was found), reject if it was not done`,
          deciders: { roles: [spec.role!] },
          tierTimeoutMs: deadline,
          onExhausted: 'abort',
        });
        const status = outcome.byDefault ? 'missed' : outcome.decision === 'approve' ? 'done' : 'not-done';
        return {
          id: spec.id,
          title: spec.title,
          kind: 'person',
          status,
          detail: outcome.reason,
          assignedTo: spec.role,
          by: outcome.byDefault ? undefined : outcome.by,
        };
      })
      .map(async (p) => {
        const item = await p;
        items.push(item);
        audit.record({
          step: `checklist:${item.id}`,
          actor: item.by ?? 'workflow',
          action: item.kind === 'automatic' ? 'checked' : 'task',
          outcome: item.status,
          reason: item.detail,
        });
        return item;
      }),
  );

  await Promise.all(told);
  await gates.settled();
  await audit.flush();
  return {
    cadence,
    startedAt,
    finishedAt: new Date().toISOString(),
    items: results,
    open: results.filter((i) => !['ok', 'done'].includes(i.status)).map((i) => i.id),
  };
}
