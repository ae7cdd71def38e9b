/** Which deployment each HorizontalPodAutoscaler in k8s/ scales, and by which policy. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';

const K8S_DIR = join(__dirname, '..', '..', '..', 'k8s');

interface Hpa {
  kind: string;
  spec: {
    scaleTargetRef: { name: string };
    minReplicas: number;
    maxReplicas: number;
    metrics: { resource: { name: string; target: { averageUtilization: number } } }[];
  };
}

function autoscalers(): Hpa[] {
  return readdirSync(K8S_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => parseAllDocuments(readFileSync(join(K8S_DIR, f), 'utf8')).map((d) => d.toJS() as Hpa))
    .filter((o) => o.kind === 'HorizontalPodAutoscaler');
}

const policy = (h: Hpa) => ({
  min: h.spec.minReplicas,
  max: h.spec.maxReplicas,
  targets: Object.fromEntries(h.spec.metrics.map((m) => [m.resource.name, m.resource.target.averageUtilization])),
});

describe('k8s/ autoscalers', () => {
  it("gives seed 002's policy (3-20 replicas, 70 % CPU, 80 % memory) to both AI engines", () => {
    const byTarget = new Map(autoscalers().map((h) => [h.spec.scaleTargetRef.name, policy(h)]));
    for (const engine of ['ai-optimization-engine', 'ai-recommendation-engine']) {
      assert.deepEqual(byTarget.get(engine), { min: 3, max: 20, targets: { cpu: 70, memory: 80 } }, engine);
    }
  });

  it('scales the worker by a policy of its own, on CPU', () => {
    const worker = autoscalers().find((h) => h.spec.scaleTargetRef.name === 'aiops-runbooks-worker');
    assert.ok(worker, 'the worker has an autoscaler');
    const p = policy(worker);
    assert.notDeepEqual(p, { min: 3, max: 20, targets: { cpu: 70, memory: 80 } });
    assert.ok(p.min >= 2 && p.max > p.min);
    assert.deepEqual(Object.keys(p.targets), ['cpu']);
  });
});
