import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { MONITORING_DIR, prometheusConfig, RULES_DIR } from '../../scripts/lib/monitoring';
import { LOCAL_PORTS } from '../../scripts/lib/local-stack';

function promtool(...args: string[]): { code: number; out: string } {
  const path = process.env.PROMTOOL_PATH;
  if (!path) throw new Error('PROMTOOL_PATH is not set: run the tests with `npm test`');
  try {
    return { code: 0, out: execFileSync(path, args, { encoding: 'utf8', stdio: 'pipe', timeout: 60_000 }) };
  } catch (err) {
    const e = err as { status: number; stdout: string; stderr: string };
    return { code: e.status, out: `${e.stdout}${e.stderr}` };
  }
}

const ruleFiles = readdirSync(RULES_DIR).map((f) => join(RULES_DIR, f));
const testFiles = readdirSync(join(MONITORING_DIR, 'tests')).map((f) => join(MONITORING_DIR, 'tests', f));

describe('the alert rules (promtool)', () => {
  it('are valid rules', () => {
    const { code, out } = promtool('check', 'rules', ...ruleFiles);
    assert.equal(code, 0, out);
  });

  it('pass their unit tests: each rule quiet while healthy, firing once the failure lasted its `for`', () => {
    const { code, out } = promtool('test', 'rules', ...testFiles);
    assert.equal(code, 0, out);
  });

  it('have a unit test for every rule', () => {
    const alerts = ruleFiles.flatMap((f) =>
      (parse(readFileSync(f, 'utf8')) as { groups: { rules: { alert: string }[] }[] }).groups.flatMap((g) =>
        g.rules.map((r) => r.alert),
      ),
    );
    const tested = new Set(
      testFiles.flatMap((f) =>
        (parse(readFileSync(f, 'utf8')) as { tests: { alert_rule_test: { alertname: string }[] }[] }).tests.flatMap(
          (t) => t.alert_rule_test.map((a) => a.alertname),
        ),
      ),
    );
    assert.deepEqual(
      alerts.filter((a) => !tested.has(a)),
      [],
    );
  });

  it('would catch a broken threshold: a test fails against a rule that no longer fires', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aiops-rules-'));
    try {
      copyWithBrokenThreshold(dir);
      const { code, out } = promtool('test', 'rules', join(dir, 'tests', 'wedsync.test.yml'));
      assert.notEqual(code, 0, out);
      assert.match(out, /WedSyncErrorRateHigh/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('and the Prometheus configuration the stack writes is valid', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aiops-prom-'));
    try {
      const file = join(dir, 'prometheus.yml');
      writeFileSync(file, prometheusConfig(LOCAL_PORTS, RULES_DIR));
      const { code, out } = promtool('check', 'config', file);
      assert.equal(code, 0, out);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** A copy of the rules and tests with the WedSync error threshold raised past what the tests feed it. */
function copyWithBrokenThreshold(dir: string): void {
  mkdirSync(join(dir, 'rules'));
  mkdirSync(join(dir, 'tests'));
  writeFileSync(
    join(dir, 'rules', 'wedsync.yml'),
    readFileSync(join(RULES_DIR, 'wedsync.yml'), 'utf8').replace(
      'ai_error_ratio{service="ai-optimization-engine"} > 0.01',
      'ai_error_ratio{service="ai-optimization-engine"} > 0.5',
    ),
  );
  writeFileSync(
    join(dir, 'tests', 'wedsync.test.yml'),
    readFileSync(join(MONITORING_DIR, 'tests', 'wedsync.test.yml')),
  );
}
