import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalTail, simulate, zCritical, type SimulationPlan } from '../../src/contracts/ab-simulation';
import {
  DEFAULT_SEQUENTIAL,
  logLikelihoodRatio,
  sequentialLook,
  type ArmCounts,
} from '../../src/contracts/sequential-test';

/**
 * A second implementation of the mixture likelihood ratio, from its definition rather than its closed form:
 * ∫ φ(d̂; d, V) φ(d; 0, τ²) dd / φ(d̂; 0, V), integrated with Simpson's rule over ±12 prior deviations.
 */
function mixtureRatioByIntegration(control: ArmCounts, candidate: ArmCounts, tau: number): number {
  const pooled = (control.successes + candidate.successes) / (control.trials + candidate.trials);
  const v = pooled * (1 - pooled) * (1 / control.trials + 1 / candidate.trials);
  const dHat = candidate.successes / candidate.trials - control.successes / control.trials;
  const normal = (x: number, mean: number, variance: number) =>
    Math.exp(-((x - mean) ** 2) / (2 * variance)) / Math.sqrt(2 * Math.PI * variance);
  const steps = 20_000;
  const lo = -12 * tau;
  const h = (24 * tau) / steps;
  let sum = 0;
  for (let i = 0; i <= steps; i++) {
    const d = lo + i * h;
    const w = i === 0 || i === steps ? 1 : i % 2 ? 4 : 2;
    sum += w * normal(dHat, d, v) * normal(d, 0, tau * tau);
  }
  return (sum * h) / 3 / normal(dHat, 0, v);
}

describe('the sequential two-proportion test', () => {
  it('computes the mixture likelihood ratio that numerical integration of its definition gives', () => {
    const cases: [ArmCounts, ArmCounts][] = [
      [
        { trials: 400, successes: 320 },
        { trials: 400, successes: 340 },
      ],
      [
        { trials: 2000, successes: 1640 },
        { trials: 1900, successes: 1520 },
      ],
      [
        { trials: 150, successes: 120 },
        { trials: 160, successes: 150 },
      ],
    ];
    for (const [control, candidate] of cases) {
      const closed = Math.exp(logLikelihoodRatio(control, candidate, 0.05)!);
      const integrated = mixtureRatioByIntegration(control, candidate, 0.05);
      assert.ok(Math.abs(closed / integrated - 1) < 1e-6, `${closed} vs ${integrated}`);
    }
  });

  it('decides exactly where the ratio reaches 1/alpha, and the boundary in z says the same', () => {
    // 3000 per arm at 0.80 vs 0.84: z ≈ 4.0 against a boundary of about 3.1.
    const better = sequentialLook({ trials: 3000, successes: 2400 }, { trials: 3000, successes: 2520 });
    assert.equal(better.verdict, 'candidate-better');
    assert.ok(better.likelihoodRatio! >= 20);
    assert.ok(Math.abs(better.z!) >= better.zBoundary!);
    assert.equal(
      better.alwaysValidP,
      Number(
        (
          1 / Math.exp(logLikelihoodRatio({ trials: 3000, successes: 2400 }, { trials: 3000, successes: 2520 }, 0.05)!)
        ).toFixed(6),
      ),
    );
    // The same counts swapped: significantly worse.
    assert.equal(
      sequentialLook({ trials: 3000, successes: 2520 }, { trials: 3000, successes: 2400 }).verdict,
      'candidate-worse',
    );
    // 0.80 vs 0.81 at 3000 each: z ≈ 0.98, below the boundary.
    const tie = sequentialLook({ trials: 3000, successes: 2400 }, { trials: 3000, successes: 2430 });
    assert.equal(tie.verdict, 'continue');
    assert.ok(Math.abs(tie.z!) < tie.zBoundary!);
    assert.ok(tie.likelihoodRatio! < 20);
  });

  it('needs a wider boundary than the fixed-sample 1.96 at every sample size', () => {
    for (const n of [100, 1000, 10_000, 100_000]) {
      const look = sequentialLook(
        { trials: n, successes: Math.round(n * 0.8) },
        { trials: n, successes: Math.round(n * 0.8) },
      );
      assert.ok(look.zBoundary! > 1.96, `n=${n}: ${look.zBoundary}`);
    }
  });

  it('does not decide before the minimum feedback per arm, however large the gap', () => {
    const look = sequentialLook({ trials: 99, successes: 10 }, { trials: 99, successes: 95 });
    assert.equal(look.verdict, 'continue');
    assert.match(look.reason, /fewer than 100/);
  });

  it('refuses counts that cannot be', () => {
    assert.throws(
      () => sequentialLook({ trials: 10, successes: 11 }, { trials: 10, successes: 1 }),
      /control: more successes/,
    );
    assert.throws(
      () => sequentialLook({ trials: 10, successes: 1 }, { trials: -1, successes: 0 }),
      /candidate: counts/,
    );
  });

  it('reads the normal table: 1.959964 for 5 % two-sided, 2.575829 for 1 %', () => {
    assert.ok(Math.abs(zCritical(0.05) - 1.959964) < 1e-4);
    assert.ok(Math.abs(zCritical(0.01) - 2.575829) < 1e-4);
    assert.ok(Math.abs(normalTail(1.644854) - 0.05) < 1e-6);
  });
});

describe('the sequential rule in simulation (short form; npm run bench -- ab runs the long one)', () => {
  const week: Omit<SimulationPlan, 'candidateRate' | 'seed'> = {
    controlRate: 0.82,
    perArmPerHour: 20,
    hours: 7 * 24,
    runs: 1000,
    settings: DEFAULT_SEQUENTIAL,
  };

  it('promotes no more than alpha of 1,000 A/A tests looked at every hour for a week, where a plain z-test does', () => {
    const aa = simulate({ ...week, candidateRate: 0.82, seed: 14 });
    assert.ok(aa.promoted / aa.runs <= DEFAULT_SEQUENTIAL.alpha, `false promotions ${aa.promoted}/${aa.runs}`);
    assert.ok((aa.promoted + aa.rolledBack) / aa.runs <= DEFAULT_SEQUENTIAL.alpha);
    // The naive hourly z-test at the same alpha promotes far more than alpha of the same tests.
    assert.ok(aa.naivePromoted / aa.runs > 2 * DEFAULT_SEQUENTIAL.alpha, `naive ${aa.naivePromoted}/${aa.runs}`);
  });

  it('finds a 5-point lift (0.82 → 0.87) within the week in at least 90 % of tests', () => {
    const ab = simulate({ ...week, candidateRate: 0.87, seed: 15 });
    assert.ok(ab.promoted / ab.runs >= 0.9, `power ${ab.promoted}/${ab.runs}`);
    assert.equal(ab.rolledBack, 0);
  });

  it('rolls back a candidate 5 points worse in at least 90 % of tests', () => {
    const worse = simulate({ ...week, candidateRate: 0.77, seed: 16 });
    assert.ok(worse.rolledBack / worse.runs >= 0.9, `rolled back ${worse.rolledBack}/${worse.runs}`);
    assert.equal(worse.promoted, 0);
  });
});
