/**
 * One check of the primary or the backup AI service's health endpoint, as a verdict with what was seen. A probe
 * that fails (unreachable, refused) counts as unhealthy, with why. The failover's target checks and the fallback
 * watch's probes both ask here; the fallback watch passes its one-attempt probe.
 */
import { isHealthyProbe } from '../../contracts/health';
import { probes } from '../policies';
import { settle } from './settle';

export interface ServiceHealth {
  healthy: boolean;
  /** What the probe saw: its status and components, or why it failed. */
  detail: string;
  at: string;
}

export async function checkService(
  target: 'primary' | 'backup',
  probe: typeof probes.probeServiceHealth = probes.probeServiceHealth,
): Promise<ServiceHealth> {
  const at = new Date().toISOString();
  const result = await settle(probe({ target }));
  if (result.state !== 'ok')
    return { healthy: false, detail: result.state === 'failed' ? result.error : result.reason, at };
  const p = result.result;
  const components = Object.entries(p.components).map(([k, v]) => `${k} ${v}`);
  return {
    healthy: isHealthyProbe(p),
    detail: [`HTTP ${p.httpStatus}`, `status ${p.status}`, ...components].join(', '),
    at,
  };
}
