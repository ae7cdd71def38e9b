/**
 * The A/B test's decision rule: a mixture sequential probability ratio test (mSPRT) for the difference of two
 * proportions, after Johari, Pekelis and Walsh, "Always Valid Inference" (2017). Looked at every hour, a plain
 * two-proportion z-test at 5 % promotes a model that is no better in roughly a third of A/A tests over a week; the
 * mSPRT's likelihood ratio, averaged over a normal prior on the difference, is a martingale under "no difference",
 * so by Ville's inequality the chance that it ever crosses 1/alpha, at however many looks, is at most alpha.
 *
 * With d̂ = p̂B − p̂A, its variance under "no difference" V = p̄(1 − p̄)(1/nA + 1/nB) (pooled p̄) and the prior
 * d ~ N(0, τ²):
 *
 *   Λ = √(V / (V + τ²)) · exp( τ² d̂² / (2 V (V + τ²)) )
 *
 * The test rejects "no difference" once Λ ≥ 1/alpha, which is z² = d̂²/V crossing
 *
 *   z*² = (V + τ²)/τ² · ( 2 ln(1/alpha) + ln((V + τ²)/V) )
 *
 * and the always-valid p-value is min(1, 1/Λ) (its running minimum over the looks). The sign of d̂ says whether the
 * candidate is better (promote) or worse (roll back). Pure and deterministic: the workflow calls it at each look,
 * and the tests and `npm run bench -- ab` simulate it.
 */

export interface ArmCounts {
  /** Feedback rows for the model version. */
  trials: number;
  /** Of which accepted. */
  successes: number;
}

export interface SequentialSettings {
  /** The false-decision rate the test guarantees however often it is looked at. */
  alpha: number;
  /** Standard deviation of the prior on the difference in acceptance: the size of lift worth finding fast. */
  tau: number;
  /** Feedback per arm before any decision (the normal approximation needs some). */
  minPerArm: number;
}

export const DEFAULT_SEQUENTIAL: SequentialSettings = { alpha: 0.05, tau: 0.05, minPerArm: 100 };

export type SequentialVerdict = 'candidate-better' | 'candidate-worse' | 'continue';

export interface SequentialLook {
  control: ArmCounts & { rate?: number };
  candidate: ArmCounts & { rate?: number };
  /** p̂B − p̂A. */
  difference?: number;
  /** d̂ / √V. */
  z?: number;
  /** |z| at which the test decides, for these counts. */
  zBoundary?: number;
  /** The mixture likelihood ratio Λ, and the threshold 1/alpha it is compared with. */
  likelihoodRatio?: number;
  threshold: number;
  /** min(1, 1/Λ): valid at this look whatever came before. */
  alwaysValidP?: number;
  verdict: SequentialVerdict;
  /** Why the verdict is what it is, in words. */
  reason: string;
}

const rateOf = (a: ArmCounts) => (a.trials > 0 ? a.successes / a.trials : undefined);
const round = (x: number, digits = 6) => Number(x.toFixed(digits));

function checkArm(name: string, a: ArmCounts): void {
  if (!Number.isInteger(a.trials) || !Number.isInteger(a.successes) || a.trials < 0 || a.successes < 0) {
    throw new RangeError(`${name}: counts must be whole numbers of 0 or more`);
  }
  if (a.successes > a.trials) throw new RangeError(`${name}: more successes than trials`);
}

/** ln Λ for the counts, or undefined when V is 0 (no data, or every answer the same in both arms). */
export function logLikelihoodRatio(control: ArmCounts, candidate: ArmCounts, tau: number): number | undefined {
  if (control.trials === 0 || candidate.trials === 0) return undefined;
  const pooled = (control.successes + candidate.successes) / (control.trials + candidate.trials);
  const v = pooled * (1 - pooled) * (1 / control.trials + 1 / candidate.trials);
  if (v <= 0) return undefined;
  const d = candidate.successes / candidate.trials - control.successes / control.trials;
  const t2 = tau * tau;
  return 0.5 * Math.log(v / (v + t2)) + (t2 * d * d) / (2 * v * (v + t2));
}

/** One look at the counts so far: the statistic, its boundary, and what it says. */
export function sequentialLook(
  control: ArmCounts,
  candidate: ArmCounts,
  settings: SequentialSettings = DEFAULT_SEQUENTIAL,
): SequentialLook {
  checkArm('control', control);
  checkArm('candidate', candidate);
  const threshold = 1 / settings.alpha;
  const base = {
    control: { ...control, rate: rateOf(control) },
    candidate: { ...candidate, rate: rateOf(candidate) },
    threshold,
  };
  const logL = logLikelihoodRatio(control, candidate, settings.tau);
  if (logL === undefined) {
    return { ...base, verdict: 'continue', reason: 'no variation yet: nothing to compare' };
  }
  const pooled = (control.successes + candidate.successes) / (control.trials + candidate.trials);
  const v = pooled * (1 - pooled) * (1 / control.trials + 1 / candidate.trials);
  const t2 = settings.tau * settings.tau;
  const d = candidate.successes / candidate.trials - control.successes / control.trials;
  const z = d / Math.sqrt(v);
  const zBoundary = Math.sqrt(((v + t2) / t2) * (2 * Math.log(threshold) + Math.log((v + t2) / v)));
  const stats = {
    difference: round(d),
    z: round(z, 4),
    zBoundary: round(zBoundary, 4),
    likelihoodRatio: round(Math.exp(logL), 4),
    alwaysValidP: round(Math.min(1, Math.exp(-logL))),
  };
  const enough = Math.min(control.trials, candidate.trials) >= settings.minPerArm;
  if (!enough) {
    return {
      ...base,
      ...stats,
      verdict: 'continue',
      reason: `fewer than ${settings.minPerArm} feedback rows in an arm`,
    };
  }
  if (logL >= Math.log(threshold)) {
    const better = d > 0;
    return {
      ...base,
      ...stats,
      verdict: better ? 'candidate-better' : 'candidate-worse',
      reason: `|z| ${Math.abs(stats.z)} ≥ ${stats.zBoundary}: the candidate is significantly ${better ? 'better' : 'worse'}`,
    };
  }
  return { ...base, ...stats, verdict: 'continue', reason: `|z| ${Math.abs(stats.z)} < ${stats.zBoundary}` };
}
