/** Every workflow the worker runs; the worker's single workflowsPath. */
export { weddingDayCrisis } from './crisis/workflow';
export { incidentResponse } from './incident/workflow';
export { morningHealthCheck } from './morning-health-check/workflow';
export { eveningPerformanceReview } from './evening-review/workflow';
export { sundayMaintenanceWindow } from './sunday-window/workflow';
export { maintenanceChecklist } from './checklists/workflow';
export { purgeCache } from './operations/cache-purge/workflow';
export { pruneOptimizations } from './operations/retention/workflow';
export { restartDeployment, rollbackDeployment } from './operations/rollout/workflow';
export { monitorUntilHealthy } from './operations/monitor/workflow';
export { databaseBackup, modelBackup, pruneBackups, restoreDatabase, verifyBackup } from './backup/workflow';
export { crisisManagerWatch } from './crisis-watch/workflow';
export { recoverAiService } from './ai-recovery/workflow';
export { failbackAiIngress, failoverAiIngress } from './failover/workflow';
export { aiFallbackWatch } from './fallback-watch/workflow';
export { completeOutageResponse } from './outage/workflow';
export { modelRetraining } from './model-retraining/workflow';
export { modelAccuracyWatch } from './accuracy-watch/workflow';
