/**
 * The configured side of the maintenance runbooks: what the Sunday window should deploy and warm, and the
 * cost dashboard the daily checklist reads (seed 000 Issue 1's `curl .../budget/status`). The workflows ask
 * for the plan through an activity because configuration lives in the worker, not in workflow code.
 */
import { ApplicationFailure } from '@temporalio/common';
import { FailureType, invalidInput } from '../common/failures';
import type { AppConfig, KubernetesTargets, MaintenanceConfig } from '../config';
import { expectObject } from './http-client';
import { wedsyncGet } from './http';

export interface MaintenanceDeps {
  maintenance: MaintenanceConfig;
  targets: KubernetesTargets;
  wedsync: AppConfig['wedsync'];
}

export interface MaintenancePlan {
  modelVersion?: string;
  minAccuracy: number;
  /** The ConfigMap holding `model.version`, and the deployments that read it. */
  modelConfigMap: string;
  deployments: string[];
  warmupUrls: string[];
}

export interface CostStatus {
  spent: number;
  budget: number;
  ratio: number;
  anomaly: boolean;
}

export function createMaintenanceActivities(deps: MaintenanceDeps) {
  const { maintenance, targets } = deps;
  const call = (url: string) => wedsyncGet(url, deps);

  return {
    async maintenancePlan(): Promise<MaintenancePlan> {
      return {
        modelVersion: maintenance.modelVersion,
        minAccuracy: maintenance.minAccuracy,
        modelConfigMap: targets.configMaps[0],
        deployments: [...targets.deployments],
        warmupUrls: [...maintenance.warmupUrls],
      };
    },

    /** One warm-up call (seed 002 `./scripts/warm-caches.sh`): a GET that makes the service fill its cache. */
    async warmCache(url: string): Promise<{ url: string; status: number; durationMs: number }> {
      if (!maintenance.warmupUrls.includes(url)) throw invalidInput('url', 'is not one of CACHE_WARMUP_URLS');
      const started = performance.now();
      const res = await call(url);
      return { url, status: res.status, durationMs: Math.round(performance.now() - started) };
    },

    /** The cost dashboard: spent against budget, an anomaly above COST_ALERT_RATIO of it. */
    async fetchCostStatus(): Promise<CostStatus> {
      const doc = expectObject(maintenance.costStatusUrl, await call(maintenance.costStatusUrl));
      const spent = Number(doc.spent ?? doc.current_spend);
      const budget = Number(doc.budget ?? doc.monthly_budget);
      if (!Number.isFinite(spent) || !Number.isFinite(budget) || budget <= 0) {
        throw ApplicationFailure.create({
          type: FailureType.BadUpstreamResponse,
          message: `GET ${maintenance.costStatusUrl}: expected {"spent": number, "budget": number > 0}`,
          nonRetryable: true,
        });
      }
      const ratio = Number((spent / budget).toFixed(4));
      return { spent, budget, ratio, anomaly: ratio > maintenance.costAlertRatio };
    },
  };
}
