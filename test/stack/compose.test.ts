import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { LOCAL_CREDENTIALS, LOCAL_PORTS } from '../../scripts/lib/local-stack';
import { POSTGRES_ADMIN } from '../../scripts/lib/stack';
import { kubeApiserverArgs } from '../../scripts/lib/kube-local';
import {
  alertmanagerArgs,
  alertmanagerConfig,
  MONITORING_DIR,
  prometheusArgs,
  prometheusConfig,
} from '../../scripts/lib/monitoring';

interface ComposeService {
  image: string;
  network_mode?: string;
  ports?: string[];
  environment?: Record<string, string>;
  command?: string | string[];
}

const compose = parse(readFileSync(join(__dirname, '..', '..', '..', 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, ComposeService>;
};

/** host port → container port, from "127.0.0.1:HOST:CONTAINER" entries. */
function published(service: ComposeService): Map<number, number> {
  return new Map(
    (service.ports ?? []).map((p) => {
      const parts = p.split(':').map(Number);
      assert.equal(p.split(':')[0], '127.0.0.1', `${p} must publish on loopback only, as the native stack does`);
      return [parts[1], parts[2]];
    }),
  );
}

describe('docker-compose.yml agrees with the native stack', () => {
  it('has Temporal with PostgreSQL persistence, the Temporal UI, PostgreSQL, Redis and MinIO', () => {
    for (const name of ['temporal', 'temporal-db', 'temporal-ui', 'postgres', 'redis', 'minio']) {
      assert.ok(compose.services[name], `service ${name} is missing`);
    }
    assert.equal(compose.services.temporal.environment?.DB, 'postgres12');
  });

  it('publishes the same ports on 127.0.0.1', () => {
    assert.ok(published(compose.services.temporal).has(LOCAL_PORTS.temporal));
    assert.ok(published(compose.services['temporal-ui']).has(LOCAL_PORTS.temporalUi));
    assert.equal(published(compose.services.postgres).get(LOCAL_PORTS.postgres), 5432);
    assert.equal(published(compose.services.redis).get(LOCAL_PORTS.redis), 6379);
    assert.equal(published(compose.services.minio).get(LOCAL_PORTS.s3), 9000);
  });

  it('uses the same credentials', () => {
    const pg = compose.services.postgres.environment!;
    assert.equal(pg.POSTGRES_USER, POSTGRES_ADMIN.user);
    assert.equal(pg.POSTGRES_PASSWORD, POSTGRES_ADMIN.password);
    const minio = compose.services.minio.environment!;
    assert.equal(minio.MINIO_ROOT_USER, LOCAL_CREDENTIALS.s3AccessKeyId);
    assert.equal(minio.MINIO_ROOT_PASSWORD, LOCAL_CREDENTIALS.s3SecretAccessKey);
  });

  it('keeps Redis durable like the native stack (append-only file)', () => {
    const command = [compose.services.redis.command ?? []].flat().join(' ');
    assert.match(command, /--appendonly yes/);
  });

  it('runs the Kubernetes API server with the native flags, paths aside', () => {
    const flags = (args: string[]) =>
      new Map(
        args
          .filter((a) => a.startsWith('--'))
          .map((a) => a.slice(2).split('=') as [string, string])
          // Paths and listening addresses differ inside a container; everything else must not.
          .filter(([name]) => !/file$|dir$|^etcd-servers$|^bind-address$/.test(name)),
      );
    const composeArgs = [compose.services['kube-apiserver'].command ?? []].flat();
    assert.deepEqual(flags(composeArgs), flags(kubeApiserverArgs()));
    assert.equal(
      published(compose.services['kube-apiserver']).get(LOCAL_PORTS.kubeApiserver),
      LOCAL_PORTS.kubeApiserver,
    );
    assert.equal(published(compose.services.etcd).get(LOCAL_PORTS.etcd), 2379);
  });

  it('runs Prometheus and Alertmanager with the native flags and configuration, on the host network', () => {
    // Paths differ inside a container; flags and addresses must not.
    const flags = (args: string[]) => args.map((a) => a.replace(/=\/.*$/, '=<path>'));
    for (const [name, native] of [
      ['prometheus', prometheusArgs('/c', '/d')],
      ['alertmanager', alertmanagerArgs('/c', '/d')],
    ] as const) {
      const service = compose.services[name];
      assert.equal(service.network_mode, 'host', `${name} must reach the host's worker at 127.0.0.1`);
      assert.deepEqual(flags([service.command ?? []].flat()), flags(native));
    }
    const committed = (file: string) => readFileSync(join(MONITORING_DIR, file), 'utf8');
    assert.equal(committed('prometheus.yml'), prometheusConfig(LOCAL_PORTS, '/etc/prometheus/rules'));
    assert.equal(committed('alertmanager.yml'), alertmanagerConfig(LOCAL_PORTS, LOCAL_CREDENTIALS.alertReceiverToken));
  });
});
