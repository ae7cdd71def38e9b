/** Builds the real clients activities need, from configuration. */
import { Client, Connection } from '@temporalio/client';
import { Redis } from 'ioredis';
import { Pool } from 'pg';
import type { ActivityDeps } from '../activities';
import { loadKubeConfig } from '../activities/kubernetes';
import { dataConverter } from '../client/data-converter';
import type { AppConfig } from '../config';
import { temporalConnectionOptions } from '../config/temporal-connection';
import { createS3Client } from './s3-client';

export interface OwnedDeps extends ActivityDeps {
  close(): Promise<void>;
}

export async function createDeps(config: AppConfig): Promise<OwnedDeps> {
  const pool = new Pool({ connectionString: config.postgres.url, max: config.postgres.poolMax });
  // Errors on idle clients (server restart) must not crash the worker; the next query reconnects.
  pool.on('error', () => undefined);
  const redis = new Redis(config.redis.url, { maxRetriesPerRequest: 2, lazyConnect: true });
  redis.on('error', () => undefined);
  const s3 = createS3Client(config.s3);
  const kubeConfig = await loadKubeConfig(config.kubernetes);
  // Schedule reports read the server's view of our schedules; connected on first use, so a worker starts without it.
  const temporalConnection = Connection.lazy(temporalConnectionOptions(config.temporal));
  return {
    wedsync: config.wedsync,
    kubeConfig,
    aiNamespace: config.kubernetes.aiNamespace,
    targets: config.kubernetes.targets,
    maintenance: config.maintenance,
    pool,
    redis,
    s3,
    buckets: config.s3.buckets,
    backups: config.backups,
    notifications: config.notifications,
    roster: config.roster,
    businessHours: config.businessHours,
    failover: config.failover,
    retraining: config.retraining,
    scrollUniversity: config.scrollUniversity,
    temporalClient: new Client({
      connection: temporalConnection,
      namespace: config.temporal.namespace,
      dataConverter: dataConverter(config),
    }),
    async close() {
      await temporalConnection.close();
      redis.disconnect();
      s3.destroy();
      await pool.end();
    },
  };
}
