/** What the worker's configuration tells workflows: the Sunday window's plan, the cost dashboard's reading. Types only. */

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
