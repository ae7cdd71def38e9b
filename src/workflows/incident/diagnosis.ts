/**
 * The Alert Response Checklist's "check service health and logs" for the incident's own company: a ScrollUniversity
 * deployment (SCROLLUNIVERSITY_DEPLOYMENTS) is checked against ScrollUniversity's API and namespace, anything else
 * against WedSync's. Both add seed 000's General Troubleshooting steps 2 and 5: the service's recent log lines and
 * its rollout history. Each check that cannot be made is a line saying so, never the incident's failure.
 */
import { isHealthyProbe } from '../../contracts/health';
import type { Check } from '../../contracts/probes';
import { settle } from '../common/settle';
import { probes } from '../policies';

/** Incidents that reached their diagnosis before it checked WedSync's endpoints only. */
export const DIAGNOSIS_BY_COMPANY_PATCH = 'incident-diagnosis-by-company';

const said = <T>(check: Check<T>, text: (result: T) => string) =>
  check.state === 'ok' ? text(check.result) : check.state === 'failed' ? `failed: ${check.error}` : 'skipped';

export async function diagnoseService(service: string): Promise<string[]> {
  const su = await probes.scrollUniversityTargets();
  const scrollUniversity = su.deployments.includes(service);
  const where = scrollUniversity ? { namespace: su.namespace } : {};
  const lines: string[] = [];
  if (scrollUniversity) {
    const [health, errors] = await Promise.all([
      settle(probes.scrollUniversityHealth()),
      settle(probes.scrollUniversityErrors()),
    ]);
    lines.push(
      `ScrollUniversity health: ${said(health, (h) => `${h.status} (HTTP ${h.httpStatus})`)}; errors: ${said(errors, (e) => `rate ${e.errorRate}; ${e.errors.map((x) => `${x.message} ×${x.count}`).join('; ') || 'none'}`)}`,
    );
  } else {
    const urls = await probes.listHealthEndpoints();
    const health = await Promise.all(urls.map((url) => settle(probes.probeHealth(url))));
    const errors = await settle(probes.fetchRecentErrors());
    const healthy = health.filter((h) => h.state === 'ok' && isHealthyProbe(h.result)).length;
    lines.push(
      `health: ${healthy}/${urls.length} endpoints healthy; recent errors: ${said(errors, (e) => e.errors.map((x) => `${x.message} ×${x.count}`).join('; ') || 'none')}`,
    );
  }
  const history = await settle(probes.rolloutHistory({ deployment: service, ...where }));
  lines.push(
    `rollout history of ${service}: ${said(history, (h) => h.map((r) => `${r.revision}${r.current ? ' (current)' : ''}${r.changeCause ? ` ${r.changeCause}` : ''}`).join(', ') || 'none')}`,
  );
  const pods = await settle(probes.listPods({ ...where, labelSelector: `app=${service}` }));
  const first = pods.state === 'ok' && pods.result.configured ? pods.result.pods[0] : undefined;
  if (first) {
    const logs = await settle(probes.podLogs({ pod: first.name, tailLines: 100, ...where }));
    lines.push(`logs of ${first.name}: ${said(logs, (l) => l.lines.slice(-5).join(' | ') || 'empty')}`);
  } else {
    lines.push(`logs of ${service}: ${said(pods, () => 'no pods')}`);
  }
  return lines;
}
