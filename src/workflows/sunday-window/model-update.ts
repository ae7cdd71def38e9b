/**
 * The Sunday window's model update (seed 002 "AI Model Updates": ./scripts/deploy-ai-models.sh production;
 * ./scripts/validate-models.sh) for the model the monthly retraining promoted last (model_versions): its artifacts
 * put where the engines read them, the ConfigMap pointed at them, the engines restarted, then judged by the health
 * endpoints and the evaluation Job against the accuracy floor and the served model's evaluation. A model that does
 * not hold is rolled back at once (the models kept aside put back, the ConfigMap as it was, the engines restarted)
 * and someone is paged.
 */
import { ApplicationFailure, CancellationScope, workflowInfo } from '@temporalio/workflow';
import { failureText, FailureType } from '../../contracts/failures';
import { retrainingPrefix, type ModelMetrics, type PromotedModel, type ServedModel } from '../../contracts/retraining';
import type { MaintenancePlan } from '../../contracts/settings';
import { evaluateModels, unhealthyEndpoints } from '../common/model-validation';
import { Pager } from '../gates/pager';
import { changes, deployModelArtifacts, keepServingModels, probes, restoreServingModels } from '../policies';
import type { StepReport } from './messages';
import { thisRunPiece } from '../common/run-stamp';

/**
 * Windows started before it wrote the configured AI_MODEL_VERSION into the ConfigMap and read the replaced model's
 * 24-hour accuracy back as its validation; from it the model update deploys the newest promoted model.
 */
export const DEPLOYS_PROMOTED_MODEL_PATCH = 'sunday-deploys-promoted-model';

/** Who hears of a model that did not hold: the AI service recovery's audience. */
const MODEL_AUDIENCE = { roles: ['ai-ops', 'platform-oncall'] };

export interface ModelToDeploy {
  promoted: PromotedModel;
  served?: ServedModel;
  /** The served model's own evaluation: the candidate may trail it by no more than the margin. */
  servedMetrics?: ModelMetrics;
}

/** The newest promoted model when the serving location holds an older one; else why there is nothing to do. */
export async function modelToDeploy(): Promise<{ deploy?: ModelToDeploy; nothingToDo?: string }> {
  const promoted = await probes.newestPromotedModel();
  if (!promoted) return { nothingToDo: 'no promoted model in model_versions: nothing to deploy' };
  const served = await probes.servedModel();
  if (served?.version === promoted.version) {
    return { nothingToDo: `model ${promoted.version} (promoted ${promoted.decidedAt}) is already served` };
  }
  const servedRecord = served ? await probes.modelVersion({ version: served.version }) : undefined;
  if (servedRecord && servedRecord.decidedAt >= promoted.decidedAt) {
    return {
      nothingToDo:
        `the served model ${servedRecord.version} (decided ${servedRecord.decidedAt}) is not older than the newest ` +
        `promoted ${promoted.version} (${promoted.decidedAt}): nothing to deploy`,
    };
  }
  return { deploy: { promoted, served, servedMetrics: servedRecord?.metrics } };
}

/** Deploys and validates the model; a model that does not hold is rolled back and someone paged. */
export async function deployPromotedModel(
  target: ModelToDeploy,
  plan: MaintenancePlan,
  restartAll: () => Promise<void>,
): Promise<Omit<StepReport, 'step'>> {
  const { promoted, served, servedMetrics } = target;
  const info = workflowInfo();
  const deployId = info.runId.toLowerCase();
  const validationJob = `validate-serving-${thisRunPiece()}`;
  const version = promoted.version;
  const retraining = await probes.retrainingPlan();
  const before = await changes.getConfigMap({ name: plan.modelConfigMap });
  const servingUri = `s3://${retraining.modelsBucket}/`;
  const replaced = served?.version ?? before.data['model.version'] ?? 'none';
  // What a rollback puts back, kept before anything changes.
  await keepServingModels({ deployId });
  try {
    await deployModelArtifacts({
      deployId,
      version,
      artifactsUri: `${promoted.artifactsUri.replace(/\/?$/, '/')}models/`,
      workflowId: info.workflowId,
    });
    await changes.applyConfigMap({
      name: plan.modelConfigMap,
      data: { ...before.data, 'model.version': version, 'model.uri': servingUri },
    });
    await restartAll();
    const { unhealthy, total } = await unhealthyEndpoints();
    if (unhealthy > 0) {
      throw ApplicationFailure.create({
        type: FailureType.ValidationFailed,
        message: `${unhealthy} of ${total} health endpoints not healthy`,
      });
    }
    const metrics = await evaluateModels(
      retraining,
      {
        jobName: validationJob,
        version,
        modelsUri: servingUri,
        dataUri: `s3://${retraining.modelsBucket}/${promoted.dataKey ?? `${retrainingPrefix(version)}training-data.csv`}`,
        metricsKey: `${retrainingPrefix(version)}deployments/${deployId}/metrics.json`,
      },
      servedMetrics,
    );
    return { status: 'done', detail: `model ${replaced} → ${version}; evaluation accuracy ${metrics.accuracy}` };
  } catch (err) {
    const why = failureText(err);
    // The kept models, the previous ConfigMap and a restart on them, even if this workflow is being cancelled.
    return CancellationScope.nonCancellable(async () => {
      let undoFailed: string | undefined;
      try {
        await restoreServingModels({ deployId });
        await changes.applyConfigMap({ name: plan.modelConfigMap, data: before.data });
        await restartAll();
      } catch (undoErr) {
        undoFailed = failureText(undoErr);
      }
      const detail = undoFailed
        ? `model ${version} failed (${why}) and the rollback to ${replaced} failed too: ${undoFailed}`
        : `model ${version} rolled back to ${replaced}: ${why}`;
      const pager = new Pager(`sunday-model-update-${info.workflowId}`);
      const problems = await pager.tell({
        audience: MODEL_AUDIENCE,
        urgency: 'page',
        severity: undoFailed ? 'critical' : 'warning',
        dedupKey: pager.dedupKey,
        message: `[sunday-window] ${detail} (workflow ${info.workflowId})`,
      });
      return {
        status: undoFailed ? 'failed' : 'rolled-back',
        detail: problems.length ? `${detail}; paging failed: ${problems.join('; ')}` : detail,
      };
    });
  }
}
