/**
 * WedSync "Morning Health Check (9:00 AM GMT)", seed 002, Daily Maintenance:
 *
 *   curl -s https://api.wedsync.com/ai/health | jq '.'
 *   curl -s https://api.wedsync.com/ai/metrics/daily | jq '.'
 *   curl -s https://api.wedsync.com/ai/errors/recent | jq '.errors[] | select(.count > 10)'
 *   kubectl get pods -n ai-services -o wide
 *
 * judged against the seed's "Critical Metrics to Monitor". It also checks the dependencies seed 000's
 * troubleshooting verifies (database, cache, object store). A failing check makes the report degraded; the
 * workflow itself only fails on bad input.
 *
 * Input example (`temporal workflow start --type morningHealthCheck --task-queue aiops-runbooks --input '{}'`):
 *   {"namespace": "ai-services"}
 */
import { workflowInfo } from '@temporalio/workflow';
import { settle } from '../common/settle';
import { probes } from '../policies';
import { parseMorningHealthCheckInput, type MorningHealthCheckInput } from './messages';
import { buildReport, type HealthCheckReport } from './report';

export async function morningHealthCheck(rawInput?: MorningHealthCheckInput): Promise<HealthCheckReport> {
  const input = parseMorningHealthCheckInput(rawInput);
  const startedAt = new Date(workflowInfo().runStartTime).toISOString();

  const urls = await probes.listHealthEndpoints();
  const [health, metrics, errors, pods, dependencies] = await Promise.all([
    Promise.all(urls.map(async (url) => ({ url, check: await settle(probes.probeHealth(url)) }))),
    settle(probes.fetchDailyMetrics()),
    settle(probes.fetchRecentErrors()),
    settle(probes.listPods({ namespace: input.namespace })),
    Promise.all([settle(probes.probeDatabase()), settle(probes.probeCache()), settle(probes.probeObjectStore())]),
  ]);

  return buildReport(
    {
      health,
      metrics,
      errors,
      pods: pods.state === 'ok' && !pods.result.configured ? { state: 'skipped', reason: pods.result.reason } : pods,
      dependencies,
    },
    { startedAt, finishedAt: new Date().toISOString() },
  );
}
