/**
 * The worker's configuration as workflows may see it: the roster (names and roles, never how to reach anyone),
 * business hours, and what the Sunday window deploys and warms. Workflows ask through an activity because
 * configuration lives in the worker, not in workflow code.
 */
import type { BusinessHours, KubernetesTargets, MaintenanceConfig, Person } from '../config';
import type { Member } from '../contracts/roster';
import type { MaintenancePlan } from '../contracts/settings';

export interface SettingsDeps {
  roster: Person[];
  businessHours: BusinessHours;
  maintenance: MaintenanceConfig;
  targets: KubernetesTargets;
}

export function createSettingsActivities({ roster, businessHours, maintenance, targets }: SettingsDeps) {
  return {
    /** The roster as workflows may see it: ids, names and roles, and the business hours. */
    async loadDirectory(): Promise<{ members: Member[]; businessHours: BusinessHours }> {
      return { members: roster.map(({ id, name, roles }) => ({ id, name, roles })), businessHours };
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
  };
}
