/**
 * Every `patched()` marker the workflows set, with the day it landed, and which open runs may still need the code
 * path from before it: the list a maintainer retires patches by (README "Retiring a patch", `runbook patches`).
 *
 * A run needs the old path when it got past the patch's call on a worker without the patch, and so has no marker of
 * it. A run without the marker that started before the patch reached the workers cannot be told from one that simply
 * has not reached the call yet, so it counts: the list errs on the side of keeping a patch.
 */
import type { Client } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { decodeHistory } from '../codec/history';
import { DR_DRILL_CHECKED_PATCH } from '../workflows/checklists/items';
import { STANDALONE_FAILURE_PAGES_PATCH } from '../workflows/common/paged-on-failure';
import { RUN_ID_TAIL_PATCH } from '../workflows/common/run-stamp';
import { SIGNAL_INTAKE_PATCH } from '../workflows/common/signal-intake';
import { LOCAL_FIRST_PATCH, PATH_DECIDED_FIRST_PATCH } from '../workflows/crisis/local-first';
import { NOTICES_UNTIL_TOLD_PATCH } from '../workflows/crisis/takeover';
import { PLATFORM_SCOPE_PATCH } from '../workflows/crisis/workflow';
import {
  GATE_PATCHES_AT_START_PATCH,
  ROTATED_KEYS_PATCH,
  SIGNED_DECISIONS_PATCH,
  UNKNOWN_SIGNER_READS_PATCH,
  VERIFICATION_BUDGET_PATCH,
} from '../workflows/gates/gatekeeper';
import { CHANNELS_APART_PATCH } from '../workflows/gates/pager';
import { DIAGNOSIS_BY_COMPANY_PATCH } from '../workflows/incident/diagnosis';
import {
  CONTENT_CHILDREN_PATCH,
  QUICK_FIX_REMEDIATION_PATCH,
  REBUILD_CACHE_CHILD_PATCH,
} from '../workflows/incident/quick-fix';
import {
  AUDIT_BY_ACTIVITY_PATCH,
  GATE_REMINDERS_PATCH,
  QUICK_FIX_CHILDREN_PATCH,
} from '../workflows/incident/workflow';
import { CANCEL_REMOVES_JOBS_PATCH } from '../workflows/model-retraining/workflow';
import { ROLLBACK_REVISION_FIXED_PATCH } from '../workflows/operations/rollout/workflow';
import { BACKUP_WORKER_PATCH, ROSTER_READ_BY_ACTIVITY_PATCH } from '../workflows/policies';
import { DEPLOYS_PROMOTED_MODEL_PATCH } from '../workflows/sunday-window/model-update';

export interface PatchRecord {
  id: string;
  /** The day (UTC) the patch landed: runs started before a worker carrying it may have taken the old path. */
  landed: string;
}

export const PATCHES: readonly PatchRecord[] = [
  { id: QUICK_FIX_CHILDREN_PATCH, landed: '2026-11-23' },
  { id: LOCAL_FIRST_PATCH, landed: '2026-11-23' },
  { id: PATH_DECIDED_FIRST_PATCH, landed: '2026-11-25' },
  { id: PLATFORM_SCOPE_PATCH, landed: '2026-11-25' },
  { id: GATE_REMINDERS_PATCH, landed: '2026-11-25' },
  { id: CHANNELS_APART_PATCH, landed: '2026-11-25' },
  { id: ROLLBACK_REVISION_FIXED_PATCH, landed: '2026-11-25' },
  { id: DR_DRILL_CHECKED_PATCH, landed: '2026-11-26' },
  { id: VERIFICATION_BUDGET_PATCH, landed: '2026-11-26' },
  { id: BACKUP_WORKER_PATCH, landed: '2026-11-26' },
  { id: AUDIT_BY_ACTIVITY_PATCH, landed: '2026-11-26' },
  { id: DIAGNOSIS_BY_COMPANY_PATCH, landed: '2026-11-26' },
  { id: CONTENT_CHILDREN_PATCH, landed: '2026-11-26' },
  { id: REBUILD_CACHE_CHILD_PATCH, landed: '2026-11-26' },
  { id: QUICK_FIX_REMEDIATION_PATCH, landed: '2026-11-26' },
  { id: CANCEL_REMOVES_JOBS_PATCH, landed: '2026-11-26' },
  { id: DEPLOYS_PROMOTED_MODEL_PATCH, landed: '2026-11-26' },
  { id: ROSTER_READ_BY_ACTIVITY_PATCH, landed: '2026-11-26' },
  { id: ROTATED_KEYS_PATCH, landed: '2026-11-26' },
  { id: SIGNED_DECISIONS_PATCH, landed: '2026-11-26' },
  { id: UNKNOWN_SIGNER_READS_PATCH, landed: '2026-11-26' },
  { id: RUN_ID_TAIL_PATCH, landed: '2026-11-27' },
  { id: STANDALONE_FAILURE_PAGES_PATCH, landed: '2026-11-27' },
  { id: NOTICES_UNTIL_TOLD_PATCH, landed: '2026-11-27' },
  { id: GATE_PATCHES_AT_START_PATCH, landed: '2026-11-27' },
  { id: SIGNAL_INTAKE_PATCH, landed: '2026-11-27' },
];

/** An open run and the patch markers its history holds. */
export interface OpenRun {
  workflowId: string;
  runId: string;
  type: string;
  startTime: Date;
  patches: ReadonlySet<string>;
}

export interface PatchStatus extends PatchRecord {
  /** Runs started before this instant without the marker may have taken the old path. */
  cutoff: string;
  /** Those runs. */
  before: { workflowId: string; runId: string; type: string; startTime: string }[];
  /** `deprecate`: no open run can need the old path, so `deprecatePatch` may replace `patched`. */
  verdict: 'keep' | 'deprecate';
}

/** The patch ids a history's markers record (the SDK's `core_patch` marker, deprecated or not). */
export function patchesInHistory(history: temporal.api.history.v1.IHistory): Set<string> {
  const found = new Set<string>();
  for (const event of history.events ?? []) {
    const marker = event.markerRecordedEventAttributes;
    if (marker?.markerName !== 'core_patch') continue;
    const payload = marker.details?.['patch-data']?.payloads?.[0];
    if (!payload?.data) continue;
    try {
      const { id } = JSON.parse(Buffer.from(payload.data).toString('utf8')) as { id?: unknown };
      if (typeof id === 'string') found.add(id);
    } catch {
      // Not JSON: not a marker this SDK wrote.
    }
  }
  return found;
}

/**
 * When the workers carrying each patch were deployed, where that is later than the day it landed: `byPatch` for a
 * patch whose release went out at a time of its own, `all` for every other.
 */
export interface DeployTimes {
  all?: Date;
  byPatch?: ReadonlyMap<string, Date>;
}

/** Each patch's status against the open runs. A patch counts from the later of the day it landed and its deployment. */
export function patchReport(runs: readonly OpenRun[], deployed: DeployTimes = {}, patches = PATCHES): PatchStatus[] {
  return patches.map((patch) => {
    const landed = Date.parse(`${patch.landed}T00:00:00Z`);
    const deployedAt = deployed.byPatch?.get(patch.id) ?? deployed.all;
    const cutoff = new Date(Math.max(landed, deployedAt?.getTime() ?? 0));
    const before = runs
      .filter((r) => r.startTime < cutoff && !r.patches.has(patch.id))
      .map((r) => ({ workflowId: r.workflowId, runId: r.runId, type: r.type, startTime: r.startTime.toISOString() }));
    return { ...patch, cutoff: cutoff.toISOString(), before, verdict: before.length ? 'keep' : 'deprecate' };
  });
}

/**
 * Every open run in the client's namespace (narrowed by a visibility `filter` if given) with the patch markers of its
 * history, a few histories at a time.
 */
export async function openRuns(client: Client, codec?: PayloadCodec, filter?: string): Promise<OpenRun[]> {
  const query = `ExecutionStatus = "Running"${filter ? ` AND (${filter})` : ''}`;
  const listed: Omit<OpenRun, 'patches'>[] = [];
  for await (const wf of client.workflow.list({ query })) {
    listed.push({ workflowId: wf.workflowId, runId: wf.runId, type: wf.type, startTime: wf.startTime });
  }
  const runs: OpenRun[] = [];
  const CONCURRENT = 8;
  for (let i = 0; i < listed.length; i += CONCURRENT) {
    const batch = listed.slice(i, i + CONCURRENT);
    const histories = await Promise.all(
      batch.map(async (r) => {
        const raw = await client.workflow.getHandle(r.workflowId, r.runId).fetchHistory();
        return codec ? decodeHistory(raw, codec) : raw;
      }),
    );
    batch.forEach((r, j) => runs.push({ ...r, patches: patchesInHistory(histories[j]) }));
  }
  return runs;
}
