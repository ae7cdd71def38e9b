/** Every workflow the worker runs; the worker's single workflowsPath. */
export { morningHealthCheck } from './health/workflow';
export { monitorUntilHealthy } from './health/monitor';
export { weddingDayCrisis } from './crisis/workflow';
export { incidentResponse } from './incident/workflow';
