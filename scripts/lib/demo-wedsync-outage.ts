/**
 * WedSync's AI service outage (seed 002 Issue 3) as the local stack stands in for it, so each of the outage
 * remediation's paths runs end to end (`POST /_local/conditions`):
 *
 * - `ai-optimization-engine` `down` (or `failing`): /ai/health answers 503 until a `kubectl rollout restart` of the
 *   engine made after the condition was set (read from the Deployment's restart stamp in the AI namespace), which
 *   clears it: down, recovering after a restart;
 * - the same with `"sticky": true`: the restart does not clear it, the failover to the backup is what brings the AI
 *   service back (`/ai/backup/health` healthy): down until failover;
 * - and with `ai-backup-services` `down` as well: the failover is refused on the backup's health, so only the
 *   rule-based fallback (`POST /ai/fallback/enable`) is left: down until fallback.
 *
 * `/v1/models` stands in for the external dependency the seed checks (`curl https://api.openai.com/v1/models`).
 */
import type { DemoCondition, DemoConditions } from './demo-conditions';
import { restartReader, type DemoModule } from './demo-scrolluniversity';

const ENGINE = 'ai-optimization-engine';
const BACKUP = 'ai-backup-services';
const OUTAGES: DemoCondition[] = ['down', 'failing'];

export interface WedsyncOutageDemoOptions {
  kubeconfig?: string;
  /** The AI namespace (K8S_AI_NAMESPACE) where the engine's Deployment is: its restarts clear an outage. */
  aiNamespace?: string;
}

export interface WedsyncOutageDemo extends DemoModule {
  /** The optimization engine's condition now, after clearing an outage that a later restart fixed. */
  engine(): Promise<DemoCondition>;
}

export function wedsyncOutageDemo(conditions: DemoConditions, options: WedsyncOutageDemoOptions): WedsyncOutageDemo {
  const lastRestart = restartReader({ kubeconfig: options.kubeconfig, namespace: options.aiNamespace }, ENGINE);
  const engine = async () => {
    if (OUTAGES.includes(conditions.get(ENGINE))) {
      const restartedAt = await lastRestart();
      if (restartedAt !== undefined) conditions.fix(ENGINE, OUTAGES, restartedAt);
    }
    return conditions.get(ENGINE);
  };
  return {
    engine,
    get: {
      // The backup AI service the ingress fails over to (seed 002 Manual Failover: ai-backup-services).
      '/ai/backup/health': async () => {
        const backup = conditions.get(BACKUP);
        if (OUTAGES.includes(backup)) throw new Error(`AI backup service ${backup} (POST /_local/conditions)`);
        return { status: 'healthy' };
      },
      '/v1/models': async () => ({
        object: 'list',
        data: [
          { id: 'gpt-4o', object: 'model', owned_by: 'openai' },
          { id: 'gpt-4o-mini', object: 'model', owned_by: 'openai' },
        ],
      }),
    },
    post: {},
  };
}
