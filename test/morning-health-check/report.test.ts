import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluateKpi } from '../../src/contracts/kpi';
import { buildReport, type HealthCheckChecks } from '../../src/workflows/morning-health-check/report';
import type { HealthProbe } from '../../src/contracts/probes';

const times = { startedAt: '2026-01-01T09:00:00.000Z', finishedAt: '2026-01-01T09:00:01.000Z' };

const probe = (over: Partial<HealthProbe> = {}): HealthProbe => ({
  url: 'http://svc/ai/health',
  httpStatus: 200,
  latencyMs: 5,
  status: 'healthy',
  components: { optimization_engine: 'operational' },
  responseTimeMs: 250,
  accuracyRate: 0.92,
  availability: 0.9995,
  ...over,
});

function checks(over: Partial<HealthCheckChecks> = {}): HealthCheckChecks {
  return {
    health: [{ url: 'http://svc/ai/health', check: { state: 'ok', result: probe() } }],
    metrics: { state: 'ok', result: { errorRate: 0.001, queueLength: 2 } },
    errors: { state: 'ok', result: { errors: [] } },
    pods: { state: 'skipped', reason: 'no cluster' },
    dependencies: [],
    ...over,
  };
}

describe('KPI thresholds from seed 002', () => {
  it('grades each KPI ok, warning or alert around its target and alert threshold', () => {
    assert.equal(evaluateKpi('responseTimeMs', 4000).level, 'ok');
    assert.equal(evaluateKpi('responseTimeMs', 7000).level, 'warning');
    assert.equal(evaluateKpi('responseTimeMs', 11000).level, 'alert');
    assert.equal(evaluateKpi('accuracyRate', 0.9).level, 'ok');
    assert.equal(evaluateKpi('accuracyRate', 0.82).level, 'warning');
    assert.equal(evaluateKpi('accuracyRate', 0.79).level, 'alert');
    assert.equal(evaluateKpi('availability', 0.9995).level, 'ok');
    assert.equal(evaluateKpi('availability', 0.994).level, 'alert');
    assert.equal(evaluateKpi('errorRate', 0.004).level, 'ok');
    assert.equal(evaluateKpi('errorRate', 0.02).level, 'alert');
    assert.equal(evaluateKpi('queueLength', 30).level, 'warning');
    assert.equal(evaluateKpi('queueLength', 51).level, 'alert');
    assert.equal(evaluateKpi('queueLength', undefined).level, 'unknown');
  });
});

describe('morning report verdict', () => {
  it('is healthy when every check passes and every KPI meets its target', () => {
    const report = buildReport(checks(), times);
    assert.equal(report.status, 'healthy');
    assert.deepEqual(report.findings, []);
  });

  it('is degraded, not failed, when one probe fails', () => {
    const report = buildReport(
      checks({
        health: [
          { url: 'http://a/ai/health', check: { state: 'ok', result: probe({ url: 'http://a/ai/health' }) } },
          { url: 'http://b/ai/health', check: { state: 'failed', error: 'connection refused' } },
        ],
      }),
      times,
    );
    assert.equal(report.status, 'degraded');
    assert.match(report.findings.join('\n'), /http:\/\/b\/ai\/health failed: connection refused/);
  });

  it('is down when no health endpoint answers', () => {
    const report = buildReport(
      checks({ health: [{ url: 'http://a/ai/health', check: { state: 'failed', error: 'timeout' } }] }),
      times,
    );
    assert.equal(report.status, 'down');
    assert.equal(report.findings[0], 'no health endpoint answered');
  });

  it('flags only errors seen more than 10 times', () => {
    const report = buildReport(
      checks({
        errors: {
          state: 'ok',
          result: {
            errors: [
              { message: 'ten', count: 10 },
              { message: 'eleven', count: 11 },
            ],
          },
        },
      }),
      times,
    );
    assert.deepEqual(report.flaggedErrors, [{ message: 'eleven', count: 11 }]);
    assert.equal(report.status, 'degraded');
  });

  it('prefers the daily summary over the live probe for a KPI', () => {
    const report = buildReport(checks({ metrics: { state: 'ok', result: { accuracyRate: 0.79 } } }), times);
    const accuracy = report.kpis.find((k) => k.name === 'accuracyRate')!;
    assert.equal(accuracy.value, 0.79);
    assert.equal(accuracy.level, 'alert');
  });

  it('reports pods that are not running or not ready', () => {
    const report = buildReport(
      checks({
        pods: {
          state: 'ok',
          result: {
            configured: true,
            namespace: 'ai-services',
            pods: [
              { name: 'engine-1', phase: 'Running', ready: true, restarts: 0 },
              { name: 'engine-2', phase: 'Running', ready: false, restarts: 4 },
              { name: 'engine-3', phase: 'Pending', ready: false, restarts: 0 },
            ],
          },
        },
      }),
      times,
    );
    assert.deepEqual(
      report.findings.filter((f) => f.startsWith('pod ')),
      ['pod engine-2 is not ready', 'pod engine-3 is Pending'],
    );
  });
});
