/** Every workflow the worker runs; the worker's single workflowsPath. */
export { morningHealthCheck } from './health/workflow';
export { monitorUntilHealthy } from './health/monitor';
export { weddingDayCrisis } from './crisis/workflow';
export { incidentResponse } from './incident/workflow';
export { purgeCache } from './maintenance/cache-purge';
export { pruneOptimizations } from './maintenance/retention';
export { restartDeployment, rollbackDeployment } from './rollout/workflow';
export { eveningPerformanceReview } from './health/evening-review';
export { sundayMaintenanceWindow } from './maintenance/sunday-window';
export { maintenanceChecklist } from './maintenance/checklist';
