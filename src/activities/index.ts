/** Spreads the per-system activity factories into the one object a worker registers. */
import { createAuditActivities, type AuditDeps } from './audit';
import { createCrisisActivities, type CrisisDeps } from './crisis';
import { createHttpActivities, type HttpDeps } from './http';
import { createNotifyActivities, type NotifyDeps } from './notify';
import { createKubernetesActivities, type KubernetesDeps } from './kubernetes';
import { createPostgresActivities, type PostgresDeps } from './postgres';
import { createRedisActivities, type RedisDeps } from './redis';
import { createS3Activities, type S3Deps } from './s3';

export type ActivityDeps = HttpDeps & KubernetesDeps & PostgresDeps & RedisDeps & S3Deps & AuditDeps & NotifyDeps & CrisisDeps;

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
  };
}

export type Activities = ReturnType<typeof createActivities>;
