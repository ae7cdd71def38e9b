/**
 * The worker's configuration as workflows may see it: the roster (names and roles, never how to reach anyone),
 * business hours, and what the Sunday window deploys and warms. Workflows ask through an activity because
 * configuration lives in the worker, not in workflow code.
 */
import type { BusinessHours, KubernetesTargets, MaintenanceConfig, Person, RetrainingConfig } from '../config';
import { invalidInput } from '../contracts/failures';
import type { RetrainingPlan } from '../contracts/retraining';
import type { Member } from '../contracts/roster';
import type { MaintenancePlan } from '../contracts/settings';

export interface SettingsDeps {
  roster: Person[];
  businessHours: BusinessHours;
  maintenance: MaintenanceConfig;
  targets: KubernetesTargets;
  retraining: RetrainingConfig;
  buckets: { models: string };
}

export function createSettingsActivities({
  roster,
  businessHours,
  maintenance,
  targets,
  retraining,
  buckets,
}: SettingsDeps) {
  return {
    /** The roster as workflows may see it: ids, names and roles, and the business hours. */
    async loadDirectory(): Promise<{ members: Member[]; businessHours: BusinessHours }> {
      return {
        members: roster.map(({ id, name, roles, publicKey }) => ({ id, name, roles, ...(publicKey && { publicKey }) })),
        businessHours,
      };
    },

    async maintenancePlan(): Promise<MaintenancePlan> {
      return {
        modelVersion: maintenance.modelVersion,
        minAccuracy: maintenance.minAccuracy,
        modelConfigMap: targets.configMaps[0],
        deployments: [...targets.deployments],
        warmupUrls: [...maintenance.warmupUrls],
      };
    },

    /**
     * The monthly retraining's settings. The Jobs' image must start with an allowed prefix (RETRAIN_IMAGE_ALLOWLIST):
     * the Jobs read production data, so what runs them is not left to whoever can edit one setting.
     */
    async retrainingPlan(): Promise<RetrainingPlan> {
      if (!retraining.imageAllowlist.some((prefix) => retraining.image.startsWith(prefix))) {
        throw invalidInput(
          'RETRAIN_IMAGE',
          `${retraining.image} is not under an allowed prefix (RETRAIN_IMAGE_ALLOWLIST: ${retraining.imageAllowlist.join(', ')})`,
        );
      }
      if (!targets.deployments.includes(retraining.deployment)) {
        throw invalidInput('RETRAIN_DEPLOYMENT', `${retraining.deployment} is not in K8S_DEPLOYMENTS`);
      }
      return {
        image: retraining.image,
        cpu: retraining.cpu,
        memory: retraining.memory,
        jobTimeoutSeconds: retraining.jobTimeoutMinutes * 60,
        qualityMaxBadRatio: retraining.qualityMaxBadRatio,
        minAccuracy: maintenance.minAccuracy,
        maxAccuracyDrop: retraining.maxAccuracyDrop,
        deployment: retraining.deployment,
        modelConfigMap: targets.configMaps[0],
        canaryWeight: retraining.canaryWeight,
        abIntervalMinutes: retraining.abIntervalMinutes,
        abMaxDays: retraining.abMaxDays,
        alpha: retraining.alpha,
        minPerArm: retraining.minPerArm,
        errorRateMax: retraining.errorRateMax,
        modelsBucket: buckets.models,
      };
    },
  };
}
