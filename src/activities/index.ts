/** Spreads the per-system activity factories into the one object a worker registers. */
import { createAuditActivities, type AuditDeps } from './audit';
import { createCrisisActivities, type CrisisDeps } from './crisis';
import { createHttpActivities, type HttpDeps } from './http';
import { createNotifyActivities, type NotifyDeps } from './notify';
import { createKubernetesActivities, type KubernetesDeps } from './kubernetes';
import { createPostgresActivities, type PostgresDeps } from './postgres';
import { createRedisActivities, type RedisDeps } from './redis';
import { createS3Activities, type S3Deps } from './s3';
import { createMaintenanceActivities, type MaintenanceDeps } from './maintenance';
import { createReviewActivities, type ReviewDeps } from './reviews';
import { createScheduleActivities, type ScheduleDeps } from './schedules';

export type ActivityDeps = HttpDeps &
  KubernetesDeps &
  PostgresDeps &
  RedisDeps &
  S3Deps &
  AuditDeps &
  NotifyDeps &
  CrisisDeps &
  MaintenanceDeps &
  ReviewDeps &
  ScheduleDeps;

export function createActivities(deps: ActivityDeps) {
  return {
    ...createHttpActivities(deps),
    ...createKubernetesActivities(deps),
    ...createPostgresActivities(deps),
    ...createRedisActivities(deps),
    ...createS3Activities(deps),
    ...createAuditActivities(deps),
    ...createNotifyActivities(deps),
    ...createCrisisActivities(deps),
    ...createMaintenanceActivities(deps),
    ...createReviewActivities(deps),
    ...createScheduleActivities(deps.temporalClient),
  };
}

export type Activities = ReturnType<typeof createActivities>;
