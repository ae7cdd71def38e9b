/**
 * ScrollUniversity Issue 3, AI Service Failures (seed 000):
 *
 *   kubectl logs -f deployment/[service-name] --tail=100              # Check service logs
 *   curl http://localhost:3000/api/ai-monitoring/errors               # Check error rates
 *   kubectl rollout restart deployment/[service-name]                 # Restart failing service
 *
 * An error rate within the seed's SLO (under 1 %) changes nothing. Otherwise the service is restarted (for P0 and
 * P1 once approved) and the error rate read again. Errors that persist switch the gateway to its fallback model (the
 * Prevention's "Use fallback models": `model.active` in the model ConfigMap set to `model.fallback`, then a restart
 * so the pods read it), open a P1 incident (or join the open one) and page.
 *
 *   temporal workflow start --type aiServiceFailuresRemediation --task-queue aiops-runbooks \
 *     --workflow-id su-failures-1 --input '{"requestedBy":"oncall","deployment":"ai-gateway-service"}'
 */
import { ERROR_RATE_SLO } from '../../../contracts/scrolluniversity';
import { openOrJoinIncident } from '../../incident/open';
import { changes, probes } from '../../policies';
import type { RemediationInput, RemediationResult } from '../messages';
import { Remediation, scrollUniversityTargets } from '../remediation';

/** Pods whose logs are read: enough to see the error, not the whole fleet. */
const PODS_READ = 3;

export async function aiServiceFailuresRemediation(input: RemediationInput): Promise<RemediationResult> {
  const r = new Remediation('ai-service-failures', input, 'aiServiceFailuresRemediation');
  const targets = await scrollUniversityTargets();
  const { namespace } = targets;
  const service = r.input.deployment;

  const pods = await r.check('pods', probes.listPods({ namespace, labelSelector: `app=${service}` }));
  for (const pod of pods?.configured ? pods.pods.slice(0, PODS_READ) : []) {
    const logs = await r.check(`logs of ${pod.name}`, probes.podLogs({ pod: pod.name, namespace, tailLines: 100 }));
    const errors = logs?.lines.filter((l) => /error|exception|fatal/i.test(l)) ?? [];
    if (logs)
      r.finding(
        `logs of ${pod.name}: ${errors.length} error lines of ${logs.lines.length}${errors.length ? `, last: ${errors.at(-1)}` : ''}`,
      );
  }
  const before = await probes.scrollUniversityErrors();
  r.finding(
    `error rate ${before.errorRate} (SLO under ${ERROR_RATE_SLO}): ${before.errors.map((e) => `${e.message} ×${e.count}`).join('; ') || 'no errors listed'}`,
  );
  if (before.errorRate < ERROR_RATE_SLO)
    return r.finish({ outcome: 'not-needed', before: { errorRate: before.errorRate } });

  const decision = await r.approve(
    'restart-service',
    `restart ${namespace}/${service}: error rate ${before.errorRate} over the ${ERROR_RATE_SLO} SLO`,
  );
  if (!decision.approved) {
    await r.tell(`restart of ${service} not approved by ${decision.by}: ${decision.reason}; nothing changed`);
    return r.finish({ outcome: 'refused', before: { errorRate: before.errorRate } });
  }
  r.step('restart');
  await r.restart(service, namespace, 'restart-service');

  await r.settle();
  const after = await probes.scrollUniversityErrors();
  if (after.errorRate < ERROR_RATE_SLO) {
    await r.tell(`${service} restarted: error rate ${before.errorRate} → ${after.errorRate}`);
    return r.finish({
      outcome: 'fixed',
      before: { errorRate: before.errorRate },
      after: { errorRate: after.errorRate },
    });
  }

  // The errors persist: the fallback model, an incident, a page.
  r.step('fallback-model');
  const config = await probes.getConfigMap({ name: targets.modelConfigMap, namespace });
  const data = config.data;
  const fallback = data['model.fallback'];
  if (fallback && data['model.active'] !== fallback) {
    // Safe to retry: server-side apply of the same data leaves the same ConfigMap.
    await changes.applyConfigMap({
      name: targets.modelConfigMap,
      namespace,
      data: { ...data, 'model.active': fallback, 'model.previous': data['model.active'] ?? '' },
    });
    r.acted(`switched ${service} to the fallback model ${fallback} (was ${data['model.active'] ?? 'unset'})`);
    await r.restart(service, namespace, 'restart-on-fallback');
  } else {
    r.finding(
      fallback ? `already on the fallback model ${fallback}` : `no model.fallback in ${targets.modelConfigMap}`,
    );
  }
  r.step('incident');
  const incident = await openOrJoinIncident({
    severity: 'P1',
    service,
    summary: `AI service failures persist after a restart: error rate ${after.errorRate}`,
    fingerprint: `scrolluniversity-failures-${service}`,
  });
  r.acted(`P1 incident ${incident.outcome}: ${incident.workflowId}`);
  await r.escalate(
    `error rate still ${after.errorRate} after restarting ${service}; ${r.actions.at(-2) ?? ''}: ${r.findings.join('; ')}`,
  );
  return r.finish({
    outcome: 'escalated',
    before: { errorRate: before.errorRate },
    after: { errorRate: after.errorRate },
    incident,
  });
}
