/**
 * Prometheus and Alertmanager configuration for the local stack: written under .data/monitoring/ for its ports,
 * and committed under monitoring/ for the default ports and docker-compose.yml's paths (a test holds the two equal).
 * Prometheus scrapes the worker and the local services and sends alerts to Alertmanager, which hands them to the
 * worker's alert receiver.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { LOCAL_CREDENTIALS, LOCAL_PORTS } from './local-stack';
import { DATA_DIR, ensureDir, ROOT } from './paths';

export const MONITORING_DIR = join(ROOT, 'monitoring');
export const RULES_DIR = join(MONITORING_DIR, 'rules');

type Ports = Pick<typeof LOCAL_PORTS, 'workerMetrics' | 'demoApi' | 'prometheus' | 'alertmanager' | 'alertReceiver'>;

const HEADER = (what: string) =>
  `# ${what} of the local stack (scripts/lib/monitoring.ts writes the same for npm start; a test holds them equal).\n`;

export function prometheusConfig(ports: Ports, rulesDir: string): string {
  const target = (port: number) => ({ targets: [`127.0.0.1:${port}`] });
  return (
    HEADER('Prometheus configuration') +
    stringify({
      // Short intervals so an alert reaches its runbook within a minute of the failure on a laptop.
      global: { scrape_interval: '5s', evaluation_interval: '5s' },
      rule_files: [`${rulesDir}/*.yml`],
      alerting: { alertmanagers: [{ static_configs: [target(ports.alertmanager)] }] },
      scrape_configs: [
        { job_name: 'aiops-worker', static_configs: [target(ports.workerMetrics)] },
        { job_name: 'ai-services', static_configs: [target(ports.demoApi)] },
        { job_name: 'prometheus', static_configs: [target(ports.prometheus)] },
      ],
    })
  );
}

export function alertmanagerConfig(ports: Ports, token: string): string {
  return (
    HEADER('Alertmanager configuration') +
    stringify({
      route: {
        receiver: 'aiops-runbooks',
        group_by: ['alertname'],
        group_wait: '5s',
        group_interval: '10s',
        repeat_interval: '1m',
      },
      receivers: [
        {
          name: 'aiops-runbooks',
          webhook_configs: [
            {
              url: `http://127.0.0.1:${ports.alertReceiver}/alerts/alertmanager`,
              send_resolved: true,
              http_config: { authorization: { type: 'Bearer', credentials: token } },
            },
          ],
        },
      ],
    })
  );
}

/** Writes both files for this stack's ports; returns their paths. */
export function writeMonitoringConfig(): { prometheus: string; alertmanager: string } {
  const dir = ensureDir(join(DATA_DIR, 'monitoring'));
  const prometheus = join(dir, 'prometheus.yml');
  const alertmanager = join(dir, 'alertmanager.yml');
  writeFileSync(prometheus, prometheusConfig(LOCAL_PORTS, RULES_DIR));
  writeFileSync(alertmanager, alertmanagerConfig(LOCAL_PORTS, LOCAL_CREDENTIALS.alertReceiverToken), { mode: 0o600 });
  return { prometheus, alertmanager };
}

/** Prometheus's flags; docker-compose.yml passes the same, its paths aside (a test holds them equal). */
export function prometheusArgs(configFile: string, dataDir: string, port: number = LOCAL_PORTS.prometheus): string[] {
  return [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${dataDir}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--storage.tsdb.retention.time=7d',
    '--log.level=warn',
  ];
}

/** Alertmanager's flags, as a single instance (no gossip port); docker-compose.yml passes the same. */
export function alertmanagerArgs(
  configFile: string,
  dataDir: string,
  port: number = LOCAL_PORTS.alertmanager,
): string[] {
  return [
    `--config.file=${configFile}`,
    `--storage.path=${dataDir}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--cluster.listen-address=',
    '--log.level=warn',
  ];
}
