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
export {
  databaseBackup,
  modelBackup,
  pruneBackups,
  pruneModelBackups,
  restoreDatabase,
  verifyBackup,
} from './backup/workflow';
export { crisisManagerWatch } from './crisis-watch/workflow';
export { recoverAiService } from './ai-recovery/workflow';
export { disasterRecoveryDrill } from './dr-drill/workflow';
export { failbackAiIngress, failoverAiIngress } from './failover/workflow';
export { aiFallbackWatch } from './fallback-watch/workflow';
export { completeOutageResponse } from './outage/workflow';
export { modelRetraining } from './model-retraining/workflow';
export { modelAccuracyWatch } from './accuracy-watch/workflow';
export { rebuildVectorIndex } from './vector-store/workflow';
export { dataBreachResponse } from './data-breach/workflow';
export { reviewTheologicalAlignment } from './theological-review/workflow';
export { resolveDatabaseConnections } from './database-connections/workflow';
export { highAiCostsRemediation } from './remediation/high-costs/workflow';
export { slowAiResponsesRemediation } from './remediation/slow-responses/workflow';
export { aiServiceFailuresRemediation } from './remediation/service-failures/workflow';
export { cacheMissesRemediation } from './remediation/cache-misses/workflow';
export { budgetExceededResponse } from './remediation/budget-exceeded/workflow';
export { highResponseTimesRemediation } from './remediation-wedsync/high-response-times/workflow';
export { aiServiceOutageRemediation } from './remediation-wedsync/ai-service-outage/workflow';
