/**
 * Simulated A/B tests with hourly looks, for the proof that the sequential rule keeps its promise: over many A/A
 * tests (both arms the same model) it promotes at most alpha of them, and with a known lift it finds the better
 * model with the stated power. Seeded, so a run is reproducible: the tests run a short form, `npm run bench -- ab`
 * the long one. A plain two-proportion z-test looked at with the same schedule is simulated beside it, to show
 * what the sequential rule guards against.
 */
import { sequentialLook, type SequentialSettings } from './sequential-test';

/** mulberry32: a small, fast 32-bit PRNG; good enough for Monte Carlo at these sizes and fully deterministic. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SimulationPlan {
  /** Acceptance rate of the current model and of the candidate. */
  controlRate: number;
  candidateRate: number;
  /** Feedback rows per arm per hour. */
  perArmPerHour: number;
  /** Looks, one an hour. */
  hours: number;
  runs: number;
  seed: number;
  settings: SequentialSettings;
}

export interface SimulationOutcome {
  runs: number;
  /** Runs in which the rule said the candidate is better (a false promotion when the rates are equal). */
  promoted: number;
  /** Runs in which it said the candidate is worse. */
  rolledBack: number;
  /** Mean hour of the decision among runs that decided. */
  meanDecisionHour?: number;
  /** The same data looked at hourly with a two-sided z-test at alpha: how often it would have promoted. */
  naivePromoted: number;
}

/** Two-sided normal quantile for alpha, by bisection on the complementary error function (no tables needed). */
export function zCritical(alpha: number): number {
  let lo = 0;
  let hi = 10;
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (2 * normalTail(mid) > alpha) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** P(Z > x) for a standard normal, from the Abramowitz-Stegun 7.1.26 erfc approximation (error < 1.5e-7). */
export function normalTail(x: number): number {
  const t = 1 / (1 + (0.3275911 * x) / Math.SQRT2);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return 0.5 * poly * Math.exp((-x * x) / 2);
}

export function simulate(plan: SimulationPlan): SimulationOutcome {
  const random = seededRandom(plan.seed);
  const zNaive = zCritical(plan.settings.alpha);
  let promoted = 0;
  let rolledBack = 0;
  let naivePromoted = 0;
  let decisionHours = 0;
  for (let run = 0; run < plan.runs; run++) {
    const control = { trials: 0, successes: 0 };
    const candidate = { trials: 0, successes: 0 };
    let decided = false;
    let naiveDone = false;
    for (let hour = 1; hour <= plan.hours && !(decided && naiveDone); hour++) {
      for (let i = 0; i < plan.perArmPerHour; i++) {
        if (random() < plan.controlRate) control.successes++;
        if (random() < plan.candidateRate) candidate.successes++;
      }
      control.trials += plan.perArmPerHour;
      candidate.trials += plan.perArmPerHour;
      if (!decided) {
        const look = sequentialLook(control, candidate, plan.settings);
        if (look.verdict !== 'continue') {
          decided = true;
          decisionHours += hour;
          if (look.verdict === 'candidate-better') promoted++;
          else rolledBack++;
        }
      }
      if (!naiveDone && Math.min(control.trials, candidate.trials) >= plan.settings.minPerArm) {
        const pooled = (control.successes + candidate.successes) / (control.trials + candidate.trials);
        const v = pooled * (1 - pooled) * (1 / control.trials + 1 / candidate.trials);
        const d = candidate.successes / candidate.trials - control.successes / control.trials;
        if (v > 0 && Math.abs(d / Math.sqrt(v)) >= zNaive) {
          naiveDone = true;
          if (d > 0) naivePromoted++;
        }
      }
    }
  }
  const decisions = promoted + rolledBack;
  return {
    runs: plan.runs,
    promoted,
    rolledBack,
    meanDecisionHour: decisions ? Number((decisionHours / decisions).toFixed(1)) : undefined,
    naivePromoted,
  };
}
