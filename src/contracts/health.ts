/**
 * The one definition of "healthy" for an endpoint's own verdict. Health endpoints say it in different words
 * (`{"status":"healthy"}`, `ok`, `up`, `operational` for a component); every workflow that judges a probe (the
 * morning check, monitoring after a fix, incident diagnosis, the Sunday model validation) asks here.
 */
import type { HealthProbe } from './probes';

const HEALTHY_STATES = new Set(['healthy', 'ok', 'operational', 'up']);

/** Whether a status word an endpoint reports (for itself or a component) means healthy. */
export function isHealthyState(state: string): boolean {
  return HEALTHY_STATES.has(state.trim().toLowerCase());
}

/** Whether a probe found the endpoint healthy: its own verdict and every component it reports. */
export function isHealthyProbe(probe: HealthProbe): boolean {
  return isHealthyState(probe.status) && Object.values(probe.components).every(isHealthyState);
}
