/**
 * The disaster recovery drill's settings and its record: each drill's report is written to drills/<drillId>/report.json
 * in the backup bucket, beside the backups it proves, and the monthly checklist reads the newest (as the daily
 * checklist reads the backups' verification records).
 */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { ScrollUniversityConfig } from '../../config';
import type { DrillPlan, DrillReport, LatestDrill } from '../../contracts/drills';
import { invalidInput } from '../../contracts/failures';
import { createBackupStore, storeFailure, type BackupDeps } from './store';

export interface DrillDeps extends BackupDeps {
  aiNamespace: string;
  scrollUniversity?: ScrollUniversityConfig;
}

const DRILLS = 'drills/';
const reportKey = (drillId: string) => `${DRILLS}${drillId}/report.json`;
/** How many records back the checklist looks for a passed drill: a year of monthly drills and their reruns. */
const RECORDS_READ = 24;

export function createDrillActivities(deps: DrillDeps) {
  const store = createBackupStore(deps);
  return {
    /** Where production is (a drill may not act there) and the drill's defaults. */
    async drillPlan(): Promise<DrillPlan> {
      return {
        productionNamespaces: [deps.aiNamespace, ...(deps.scrollUniversity ? [deps.scrollUniversity.namespace] : [])],
        scratchNamespace: deps.backups.drillNamespace,
        servingBucket: deps.buckets.models,
        backupBucket: deps.buckets.backups,
        rtoMinutes: deps.backups.rtoMinutes,
      };
    },

    /** The drill's report beside the backups; writing the same report again is harmless. */
    async recordDrill(report: DrillReport): Promise<{ key: string }> {
      if (!/^[a-z0-9-]{1,80}$/.test(report?.drillId ?? ''))
        throw invalidInput('drillId', 'must be lowercase letters, digits and -');
      const key = reportKey(report.drillId);
      try {
        await store.putJson(key, report);
      } catch (err) {
        throw storeFailure(`record drill ${report.drillId}`, err);
      }
      return { key };
    },

    /**
     * seed 000 Monthly Maintenance, "Conduct disaster recovery drill": the newest drill and the newest that passed.
     * Drill ids begin with their start time, so the folders' names sort by time; only the newest few are read.
     */
    async latestDrill(): Promise<LatestDrill> {
      try {
        const ids: string[] = [];
        let ContinuationToken: string | undefined;
        do {
          const page = await deps.s3.send(
            new ListObjectsV2Command({ Bucket: store.Bucket, Prefix: DRILLS, Delimiter: '/', ContinuationToken }),
          );
          for (const p of page.CommonPrefixes ?? []) if (p.Prefix) ids.push(p.Prefix.slice(DRILLS.length, -1));
          ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
        } while (ContinuationToken);
        const latest: LatestDrill = { bucket: store.Bucket };
        for (const id of ids.sort().reverse().slice(0, RECORDS_READ)) {
          const r = await store.getJson<DrillReport>(reportKey(id));
          if (!r) continue;
          latest.last ??= {
            drillId: r.drillId,
            finishedAt: r.finishedAt,
            passed: r.passed,
            failedStep: r.failedStep,
            reason: r.reason,
          };
          if (r.passed) {
            latest.lastPassed = {
              drillId: r.drillId,
              finishedAt: r.finishedAt,
              ageDays: Number(((Date.now() - Date.parse(r.finishedAt)) / 86_400_000).toFixed(2)),
              recoveryMs: r.recoveryMs,
              rtoMinutes: r.rtoMinutes,
            };
            break;
          }
        }
        return latest;
      } catch (err) {
        throw storeFailure('read drill records', err);
      }
    },
  };
}
