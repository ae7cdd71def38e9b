/**
 * Deployment rollouts and scaling: `kubectl rollout restart|status|undo|history` and `kubectl scale`, done
 * the way kubectl does them so that a cluster's controllers, audit log and `kubectl rollout history` see the
 * same thing an engineer's command would have produced.
 */
import type { V1Deployment, V1PodTemplateSpec, V1ReplicaSet } from '@kubernetes/client-node' with {
  'resolution-mode': 'import',
};
import { ApplicationFailure } from '@temporalio/common';
import { candidateName } from '../../contracts/retraining';
import { FailureType, invalidInput } from '../../contracts/failures';
import {
  activityContext,
  call,
  canonicalJson,
  labelSelector,
  pollPause,
  requireTarget,
  requireWholeNumber,
  type KubeApisGetter,
  type KubernetesDeps,
} from './client';

/** The annotation `kubectl rollout restart` sets on the pod template. */
export const RESTARTED_AT_ANNOTATION = 'kubectl.kubernetes.io/restartedAt';
export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
const CHANGE_CAUSE_ANNOTATION = 'kubernetes.io/change-cause';

export interface RolloutProgress {
  deployment: string;
  generation: number;
  observedGeneration: number;
  replicas: number;
  updatedReplicas: number;
  availableReplicas: number;
  /** Replicas of older revisions still running. */
  oldReplicas: number;
}

export interface RolloutRevision {
  revision: number;
  replicaSet: string;
  changeCause?: string;
  images: string[];
  createdAt?: string;
  current: boolean;
}

function progressOf(name: string, d: V1Deployment): RolloutProgress {
  const status = d.status ?? {};
  const updated = status.updatedReplicas ?? 0;
  return {
    deployment: name,
    generation: d.metadata?.generation ?? 0,
    observedGeneration: status.observedGeneration ?? 0,
    replicas: d.spec?.replicas ?? 1,
    updatedReplicas: updated,
    availableReplicas: status.availableReplicas ?? 0,
    oldReplicas: Math.max(0, (status.replicas ?? 0) - updated),
  };
}

/** Why the rollout is not finished yet, in kubectl's words; undefined once it is. */
export function rolloutPending(p: RolloutProgress): string | undefined {
  if (p.observedGeneration < p.generation) return 'waiting for the deployment spec update to be observed';
  if (p.updatedReplicas < p.replicas) return `${p.updatedReplicas} of ${p.replicas} new replicas have been updated`;
  if (p.oldReplicas > 0) return `${p.oldReplicas} old replicas are pending termination`;
  if (p.availableReplicas < p.updatedReplicas)
    return `${p.availableReplicas} of ${p.updatedReplicas} updated replicas are available`;
  return undefined;
}

function revisionOf(obj: { metadata?: { annotations?: Record<string, string> } }): number {
  return Number(obj.metadata?.annotations?.[REVISION_ANNOTATION] ?? 0);
}

/**
 * The deployment controller's record of the revisions a ReplicaSet had before: when a rollout returns to an older
 * template (an undo), the controller gives that template's ReplicaSet the next revision number and lists its old
 * numbers here.
 */
export const REVISION_HISTORY_ANNOTATION = 'deployment.kubernetes.io/revision-history';

/** Whether the ReplicaSet is, or was before an undo renumbered it, the given revision. */
function wasRevision(rs: V1ReplicaSet, revision: number): boolean {
  if (revisionOf(rs) === revision) return true;
  const history = rs.metadata?.annotations?.[REVISION_HISTORY_ANNOTATION] ?? '';
  return history.split(',').some((r) => Number(r.trim()) === revision);
}

/** A ReplicaSet's pod template as the Deployment would carry it (without the controller's hash label). */
function templateForDeployment(rs: V1ReplicaSet): V1PodTemplateSpec {
  const template = structuredClone(rs.spec?.template ?? {});
  if (template.metadata?.labels) delete template.metadata.labels['pod-template-hash'];
  return template;
}

function sameTemplate(a: V1PodTemplateSpec | undefined, b: V1PodTemplateSpec): boolean {
  return canonicalJson(a ?? {}) === canonicalJson(b);
}

/** Each call may carry `namespace`: which namespace's set of these activities runs it (activities/kubernetes.ts). */
export function createRolloutActivities(deps: KubernetesDeps, apis: KubeApisGetter) {
  const ns = deps.aiNamespace;
  // A configured deployment, or the retraining's candidate beside one (its rollout is waited for like any other).
  const deploymentName = (value: unknown) =>
    requireTarget(
      'deployment',
      value,
      [...deps.targets.deployments, ...deps.targets.deployments.map(candidateName)],
      'K8S_DEPLOYMENTS',
    );

  async function readDeployment(name: string): Promise<V1Deployment> {
    const { apps } = await apis();
    return call(`read deployment ${ns}/${name}`, () => apps.readNamespacedDeployment({ name, namespace: ns }));
  }

  /** The Deployment's own ReplicaSets (matched by selector, owned by its uid), newest revision first. */
  async function ownedReplicaSets(d: V1Deployment): Promise<V1ReplicaSet[]> {
    const { apps } = await apis();
    const name = d.metadata!.name!;
    const list = await call(`list replica sets of ${ns}/${name}`, () =>
      apps.listNamespacedReplicaSet({ namespace: ns, labelSelector: labelSelector(d.spec?.selector?.matchLabels) }),
    );
    return list.items
      .filter((rs) => rs.metadata?.ownerReferences?.some((o) => o.uid === d.metadata?.uid && o.controller))
      .sort((a, b) => revisionOf(b) - revisionOf(a));
  }

  return {
    /**
     * `kubectl rollout restart deployment/<name>`: stamps the pod template with the restart annotation as a
     * strategic-merge patch. The stamp is the activity's first scheduling time, so a retry writes the same
     * value and starts no second rollout.
     */
    async rolloutRestart(input: { deployment: string; restartedAt?: string; namespace?: string }) {
      const name = deploymentName(input?.deployment);
      let restartedAt = input.restartedAt;
      if (restartedAt !== undefined && Number.isNaN(Date.parse(restartedAt))) {
        throw invalidInput('restartedAt', `"${restartedAt}" is not an ISO timestamp`);
      }
      restartedAt ??= new Date(activityContext()?.info.scheduledTimestampMs ?? Date.now()).toISOString();
      const { apps, patchAs } = await apis();
      const patched = await call(`restart deployment ${ns}/${name}`, () =>
        apps.patchNamespacedDeployment(
          {
            name,
            namespace: ns,
            fieldManager: 'aiops-runbooks',
            body: { spec: { template: { metadata: { annotations: { [RESTARTED_AT_ANNOTATION]: restartedAt } } } } },
          },
          patchAs('strategic'),
        ),
      );
      return { deployment: name, restartedAt, generation: patched.metadata?.generation ?? 0 };
    },

    /**
     * `kubectl rollout status deployment/<name> --timeout=<t>`: polls until the new revision is fully rolled
     * out, heartbeating the progress. A deadline the Deployment itself reports (ProgressDeadlineExceeded)
     * or our own timeout fails the activity without retries: waiting again would not change the answer.
     */
    async waitForRollout(input: {
      deployment: string;
      timeoutSeconds: number;
      namespace?: string;
    }): Promise<RolloutProgress> {
      const name = deploymentName(input?.deployment);
      const timeoutSeconds = requireWholeNumber('timeoutSeconds', input.timeoutSeconds, 1, 24 * 3600);
      const deadline = Date.now() + timeoutSeconds * 1000;
      for (;;) {
        let d: V1Deployment;
        try {
          d = await readDeployment(name);
        } catch (err) {
          // An API server away for a while (restarted, cut off) is waited out within the rollout's own deadline,
          // the failure in the heartbeat, instead of spending the step's few retries in seconds: the rollout goes on
          // without it. What it refuses (401, 403, 404) still ends the wait at once.
          const unreachable = err instanceof ApplicationFailure && err.type === FailureType.UpstreamUnavailable;
          if (!unreachable || Date.now() >= deadline) throw err;
          await pollPause(
            { deployment: name, unreachable: err.message },
            Math.min(deps.pollIntervalMs ?? 2000, Math.max(0, deadline - Date.now())),
          );
          continue;
        }
        const progress = progressOf(name, d);
        const progressing = d.status?.conditions?.find((c) => c.type === 'Progressing');
        if (progressing?.reason === 'ProgressDeadlineExceeded') {
          throw ApplicationFailure.create({
            type: FailureType.RolloutFailed,
            message: `deployment ${ns}/${name} exceeded its progress deadline: ${progressing.message ?? 'no progress'}`,
            nonRetryable: true,
            details: [progress],
          });
        }
        const pending = rolloutPending(progress);
        if (pending === undefined) return progress;
        if (Date.now() >= deadline) {
          throw ApplicationFailure.create({
            type: FailureType.RolloutFailed,
            message: `deployment ${ns}/${name} did not finish rolling out within ${timeoutSeconds}s: ${pending}`,
            nonRetryable: true,
            details: [progress],
          });
        }
        await pollPause(progress, Math.min(deps.pollIntervalMs ?? 2000, Math.max(0, deadline - Date.now())));
      }
    },

    /** `kubectl rollout history deployment/<name>`: one entry per revision, oldest first. */
    async rolloutHistory(input: { deployment: string; namespace?: string }): Promise<RolloutRevision[]> {
      const name = deploymentName(input?.deployment);
      const d = await readDeployment(name);
      const current = revisionOf(d);
      return (await ownedReplicaSets(d))
        .map((rs) => ({
          revision: revisionOf(rs),
          replicaSet: rs.metadata?.name ?? '',
          changeCause: rs.metadata?.annotations?.[CHANGE_CAUSE_ANNOTATION],
          images: (rs.spec?.template?.spec?.containers ?? []).map((c) => c.image ?? ''),
          createdAt: rs.metadata?.creationTimestamp ? new Date(rs.metadata.creationTimestamp).toISOString() : undefined,
          current: revisionOf(rs) === current,
        }))
        .sort((a, b) => a.revision - b.revision);
    },

    /**
     * `kubectl rollout undo deployment/<name> [--to-revision=N]`: puts the pod template of that revision's
     * ReplicaSet (default: the one before the current) back on the Deployment. When the template is already
     * that one (a retry after success), nothing is written.
     */
    async rolloutUndo(input: { deployment: string; toRevision?: number; namespace?: string }) {
      const name = deploymentName(input?.deployment);
      if (input.toRevision !== undefined)
        requireWholeNumber('toRevision', input.toRevision, 1, Number.MAX_SAFE_INTEGER);
      const d = await readDeployment(name);
      const current = revisionOf(d);
      const sets = await ownedReplicaSets(d);
      // A fixed revision is also found renumbered: after an undo whose reply was lost, the controller has made the
      // target's ReplicaSet the current revision, and the retry must find the undo done rather than no revision.
      const target =
        input.toRevision !== undefined
          ? (sets.find((rs) => revisionOf(rs) === input.toRevision) ??
            sets.find((rs) => wasRevision(rs, input.toRevision!)))
          : sets.find((rs) => revisionOf(rs) < current || current === 0);
      if (!target) {
        throw ApplicationFailure.create({
          type: FailureType.TargetNotFound,
          message:
            input.toRevision !== undefined
              ? `deployment ${ns}/${name} has no revision ${input.toRevision} (revisions: ${sets.map(revisionOf).join(', ') || 'none'})`
              : `deployment ${ns}/${name} has no previous revision to roll back to`,
          nonRetryable: true,
        });
      }
      const template = templateForDeployment(target);
      const result = {
        deployment: name,
        fromRevision: current,
        // The revision asked for, also when the controller has since renumbered it.
        toRevision: input.toRevision ?? revisionOf(target),
        replicaSet: target.metadata?.name ?? '',
      };
      if (sameTemplate(d.spec?.template, template)) return { ...result, changed: false };
      const { apps, patchAs } = await apis();
      await call(`roll back deployment ${ns}/${name}`, () =>
        apps.patchNamespacedDeployment(
          {
            name,
            namespace: ns,
            fieldManager: 'aiops-runbooks',
            body: [{ op: 'replace', path: '/spec/template', value: template }],
          },
          patchAs('json'),
        ),
      );
      return { ...result, changed: true };
    },

    /**
     * `kubectl scale deployment/<name> --replicas=N` through the scale subresource. Returns the count
     * before, so a workflow can put it back. The count is heartbeated before the write, so a retry after a
     * lost reply still reports the original count rather than the one it set. With `raiseOnly`, a deployment
     * already running at least that many (its autoscaler got there first) is left as it is: scaling up for load
     * never takes capacity away.
     */
    async scaleDeployment(input: { deployment: string; replicas: number; raiseOnly?: boolean }) {
      const name = deploymentName(input?.deployment);
      const replicas = requireWholeNumber('replicas', input.replicas, 0, 1000);
      const { apps } = await apis();
      const scale = await call(`read scale of ${ns}/${name}`, () =>
        apps.readNamespacedDeploymentScale({ name, namespace: ns }),
      );
      const ctx = activityContext();
      const earlier = ctx?.info.heartbeatDetails as { previousReplicas?: number } | undefined;
      const previousReplicas = earlier?.previousReplicas ?? scale.spec?.replicas ?? 0;
      ctx?.heartbeat({ previousReplicas });
      if (input.raiseOnly === true && (scale.spec?.replicas ?? 0) >= replicas) {
        return { deployment: name, previousReplicas, replicas: scale.spec?.replicas ?? 0 };
      }
      if (scale.spec?.replicas !== replicas) {
        await call(`scale deployment ${ns}/${name}`, () =>
          apps.replaceNamespacedDeploymentScale({
            name,
            namespace: ns,
            fieldManager: 'aiops-runbooks',
            body: {
              metadata: { name, namespace: ns, resourceVersion: scale.metadata?.resourceVersion },
              spec: { replicas },
            },
          }),
        );
      }
      return { deployment: name, previousReplicas, replicas };
    },
  };
}
