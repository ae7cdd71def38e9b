/** Spreads the per-system activity factories into the one object a worker registers. */
import { createAuditActivities, type AuditDeps } from './audit';
import { createBackupActivities, type BackupDeps } from './backups';
import { createDrillActivities } from './backups/drills';
import { createCouplesActivities } from './couples';
import { createCrisisManagerActivities } from './crisis-manager';
import { createHttpActivities, type HttpDeps } from './http';
import { createKubernetesActivities, type KubernetesDeps } from './kubernetes';
import { createNotifyActivities, type NotifyDeps } from './notify';
import { createPostgresActivities, type PostgresDeps } from './postgres';
import { createRedisActivities, type RedisDeps } from './redis';
import { createRetrainingActivities } from './retraining';
import { createServingActivities } from './retraining/serving';
import { createS3Activities, type S3Deps } from './s3';
import { createSettingsActivities, type SettingsDeps } from './settings';
import { createTemporalActivities, type TemporalDeps } from './temporal';
import { createFailoverActivities, type FailoverDeps } from './failover';
import { createScrollUniversityActivities, type ScrollUniversityDeps } from './scrolluniversity';
import { createEvidenceActivities, type EvidenceDeps } from './evidence';
import { createScrollUniversityContentActivities, type ScrollUniversityContentDeps } from './scrolluniversity-content';

export type ActivityDeps = HttpDeps &
  KubernetesDeps &
  PostgresDeps &
  RedisDeps &
  S3Deps &
  AuditDeps &
  NotifyDeps &
  SettingsDeps &
  TemporalDeps &
  BackupDeps &
  FailoverDeps &
  ScrollUniversityDeps &
  ScrollUniversityContentDeps &
  EvidenceDeps;

export function createActivities(deps: ActivityDeps) {
  return {
    ...createHttpActivities(deps),
    ...createCrisisManagerActivities(deps),
    ...createKubernetesActivities(deps),
    ...createPostgresActivities(deps),
    ...createRedisActivities(deps),
    ...createS3Activities(deps),
    ...createAuditActivities(deps),
    ...createNotifyActivities(deps),
    ...createCouplesActivities(deps),
    ...createSettingsActivities(deps),
    ...createTemporalActivities(deps.temporalClient),
    ...createBackupActivities(deps),
    ...createDrillActivities(deps),
    ...createFailoverActivities(deps),
    ...createRetrainingActivities(deps),
    ...createServingActivities(deps),
    ...createScrollUniversityActivities(deps),
    ...createEvidenceActivities(deps),
    ...createScrollUniversityContentActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
