/**
 * Training and evaluation runs as Kubernetes Jobs (seed 002, Monthly Model Retraining): create one, then
 * wait for it with heartbeats; a failed run's error carries the failed pod's last log lines.
 */
import { createHash } from 'node:crypto';
import type { V1Job, V1Pod } from '@kubernetes/client-node' with { 'resolution-mode': 'import' };
import { ApplicationFailure } from '@temporalio/common';
import { FailureType, invalidInput } from '../../contracts/failures';
import {
  call,
  canonicalJson,
  kubernetesFailure,
  pollPause,
  requireDnsLabel,
  requireWholeNumber,
  statusCode,
  type KubeApisGetter,
  type KubernetesDeps,
} from './client';

export interface JobSpec {
  /** The Job's name; derive it from the workflow (e.g. retrain-2026-11) so a retry finds the same Job. */
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  /** Plain settings only: secrets go in secretEnv, so they never enter workflow history. */
  env?: Record<string, string>;
  /** Variables read from Secrets in the cluster: name → { secret, key }. */
  secretEnv?: Record<string, { secret: string; key: string }>;
  /** Retries of the pod before the Job counts as failed (default 0: a failed training run is looked at, not repeated). */
  backoffLimit?: number;
  /** The cluster stops the run after this long (default 4 hours). */
  activeDeadlineSeconds?: number;
  cpu?: string;
  memory?: string;
}

export const SPEC_HASH_ANNOTATION = 'aiops-runbooks/spec-hash';
const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'aiops-runbooks' };
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const QUANTITY = /^[0-9]+(\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/;

function requireStrings(field: string, value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string'))
    throw invalidInput(field, 'must be a list of strings');
  return value as string[];
}

export function validateJobSpec(spec: unknown): JobSpec {
  if (!spec || typeof spec !== 'object') throw invalidInput('spec', 'must be an object with at least name and image');
  const s = spec as JobSpec;
  requireDnsLabel('spec.name', s.name);
  if (typeof s.image !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._\/:@-]*$/.test(s.image)) {
    throw invalidInput('spec.image', `${JSON.stringify(s.image)} is not an image reference`);
  }
  requireStrings('spec.command', s.command);
  requireStrings('spec.args', s.args);
  for (const [key, value] of Object.entries(s.env ?? {})) {
    if (!ENV_NAME.test(key)) throw invalidInput(`spec.env.${key}`, 'is not a valid variable name');
    if (typeof value !== 'string') throw invalidInput(`spec.env.${key}`, 'must be a string');
  }
  for (const [key, ref] of Object.entries(s.secretEnv ?? {})) {
    if (!ENV_NAME.test(key)) throw invalidInput(`spec.secretEnv.${key}`, 'is not a valid variable name');
    requireDnsLabel(`spec.secretEnv.${key}.secret`, ref?.secret);
    if (typeof ref.key !== 'string' || !/^[-._a-zA-Z0-9]+$/.test(ref.key))
      throw invalidInput(`spec.secretEnv.${key}.key`, 'is not a Secret key');
  }
  if (s.backoffLimit !== undefined) requireWholeNumber('spec.backoffLimit', s.backoffLimit, 0, 20);
  if (s.activeDeadlineSeconds !== undefined)
    requireWholeNumber('spec.activeDeadlineSeconds', s.activeDeadlineSeconds, 1, 7 * 24 * 3600);
  for (const field of ['cpu', 'memory'] as const) {
    if (s[field] !== undefined && (typeof s[field] !== 'string' || !QUANTITY.test(s[field]!))) {
      throw invalidInput(`spec.${field}`, `${JSON.stringify(s[field])} is not a quantity such as 500m or 2Gi`);
    }
  }
  return s;
}

function specHash(spec: JobSpec): string {
  return createHash('sha256').update(canonicalJson(spec)).digest('hex').slice(0, 16);
}

function jobManifest(spec: JobSpec, namespace: string): V1Job {
  const resources =
    spec.cpu || spec.memory
      ? {
          requests: { ...(spec.cpu && { cpu: spec.cpu }), ...(spec.memory && { memory: spec.memory }) },
          limits: { ...(spec.memory && { memory: spec.memory }) },
        }
      : undefined;
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: spec.name,
      namespace,
      labels: { ...MANAGED_BY },
      annotations: { [SPEC_HASH_ANNOTATION]: specHash(spec) },
    },
    spec: {
      backoffLimit: spec.backoffLimit ?? 0,
      activeDeadlineSeconds: spec.activeDeadlineSeconds ?? 4 * 3600,
      ttlSecondsAfterFinished: 7 * 24 * 3600,
      template: {
        metadata: { labels: { ...MANAGED_BY } },
        spec: {
          restartPolicy: 'Never',
          containers: [
            {
              name: 'run',
              image: spec.image,
              command: spec.command,
              args: spec.args,
              env: [
                ...Object.entries(spec.env ?? {}).map(([name, value]) => ({ name, value })),
                ...Object.entries(spec.secretEnv ?? {}).map(([name, ref]) => ({
                  name,
                  valueFrom: { secretKeyRef: { name: ref.secret, key: ref.key } },
                })),
              ],
              resources,
            },
          ],
        },
      },
    },
  };
}

function condition(job: V1Job, type: string) {
  return job.status?.conditions?.find((c) => c.type === type && c.status === 'True');
}

export function createJobActivities(deps: KubernetesDeps, apis: KubeApisGetter) {
  const ns = deps.aiNamespace;

  /** The last lines of the pod that failed (else the newest pod) of a Job, or why they could not be read. */
  async function failedPodLog(job: string, tailLines: number): Promise<{ pod?: string; log: string }> {
    const { core } = await apis();
    let pods: V1Pod[];
    try {
      pods = (await core.listNamespacedPod({ namespace: ns, labelSelector: `job-name=${job}` })).items;
    } catch (err) {
      return { log: `(pods unavailable: ${(err as Error).message.split('\n')[0]})` };
    }
    const newestFirst = pods.sort(
      (a, b) => +new Date(b.metadata?.creationTimestamp ?? 0) - +new Date(a.metadata?.creationTimestamp ?? 0),
    );
    const pod = newestFirst.find((p) => p.status?.phase === 'Failed') ?? newestFirst[0];
    if (!pod?.metadata?.name) return { log: '(no pod of this job was found)' };
    const name = pod.metadata.name;
    try {
      return { pod: name, log: String(await core.readNamespacedPodLog({ name, namespace: ns, tailLines })) };
    } catch (err) {
      return { pod: name, log: `(log unavailable: HTTP ${statusCode(err) ?? '?'})` };
    }
  }

  return {
    /**
     * Creates the Job. The name is the idempotency key: if a Job of that name already exists with the same
     * spec (a retry after a lost reply), that is success; with a different spec it is refused.
     */
    async runJob(spec: JobSpec) {
      const valid = validateJobSpec(spec);
      const manifest = jobManifest(valid, ns);
      const { batch } = await apis();
      try {
        const created = await batch.createNamespacedJob({
          namespace: ns,
          body: manifest,
          fieldManager: 'aiops-runbooks',
        });
        return { job: valid.name, created: true, uid: created.metadata?.uid ?? '' };
      } catch (err) {
        if (statusCode(err) !== 409) throw kubernetesFailure(`create job ${ns}/${valid.name}`, err);
      }
      const existing = await call(`read job ${ns}/${valid.name}`, () =>
        batch.readNamespacedJob({ name: valid.name, namespace: ns }),
      );
      if (
        existing.metadata?.annotations?.[SPEC_HASH_ANNOTATION] !== manifest.metadata!.annotations![SPEC_HASH_ANNOTATION]
      ) {
        throw ApplicationFailure.create({
          type: FailureType.InvalidInput,
          message: `spec.name: job ${ns}/${valid.name} already exists with a different spec; choose another name`,
          nonRetryable: true,
          details: [{ field: 'spec.name' }],
        });
      }
      return { job: valid.name, created: false, uid: existing.metadata?.uid ?? '' };
    },

    /**
     * Deletes one of our Jobs and, in the background, its pods: what a cancelled run leaves nothing running of.
     * Safe to retry: a Job already gone is success. A Job this project did not create (no managed-by label) is
     * refused.
     */
    async deleteJob(input: { name: string }) {
      const name = requireDnsLabel('name', input?.name);
      const { batch } = await apis();
      let job: V1Job;
      try {
        job = await batch.readNamespacedJob({ name, namespace: ns });
      } catch (err) {
        if (statusCode(err) === 404) return { job: name, deleted: false };
        throw kubernetesFailure(`read job ${ns}/${name}`, err);
      }
      if (job.metadata?.labels?.['app.kubernetes.io/managed-by'] !== MANAGED_BY['app.kubernetes.io/managed-by']) {
        throw invalidInput('name', `job ${ns}/${name} was not created by aiops-runbooks`);
      }
      try {
        // Background: the Job goes now, its pods after it (foreground would wait on a finalizer).
        await batch.deleteNamespacedJob({ name, namespace: ns, propagationPolicy: 'Background' });
      } catch (err) {
        if (statusCode(err) !== 404) throw kubernetesFailure(`delete job ${ns}/${name}`, err);
      }
      return { job: name, deleted: true };
    },

    /**
     * Waits for the Job to succeed, heartbeating its pod counts. A failed Job (or one not finished in time)
     * fails the activity without retries, with the failed pod's last log lines in the message.
     */
    async waitForJob(input: { name: string; timeoutSeconds: number; logTailLines?: number }) {
      const name = requireDnsLabel('name', input?.name);
      const timeoutSeconds = requireWholeNumber('timeoutSeconds', input.timeoutSeconds, 1, 7 * 24 * 3600);
      const tailLines = requireWholeNumber('logTailLines', input.logTailLines ?? 50, 1, 1000);
      const { batch } = await apis();
      const deadline = Date.now() + timeoutSeconds * 1000;
      for (;;) {
        const job = await call(`read job ${ns}/${name}`, () => batch.readNamespacedJob({ name, namespace: ns }));
        const progress = {
          job: name,
          active: job.status?.active ?? 0,
          succeeded: job.status?.succeeded ?? 0,
          failed: job.status?.failed ?? 0,
        };
        if (condition(job, 'Complete')) {
          const started = job.status?.startTime ? +new Date(job.status.startTime) : undefined;
          const finished = job.status?.completionTime ? +new Date(job.status.completionTime) : undefined;
          return {
            ...progress,
            durationSeconds: started && finished ? Math.round((finished - started) / 1000) : undefined,
          };
        }
        const failed = condition(job, 'Failed');
        const timedOut = !failed && Date.now() >= deadline;
        if (failed || timedOut) {
          const { pod, log } = await failedPodLog(name, tailLines);
          const why = failed
            ? `failed (${failed.reason ?? 'Failed'}: ${failed.message ?? 'no message'})`
            : `did not finish within ${timeoutSeconds}s`;
          throw ApplicationFailure.create({
            type: FailureType.JobFailed,
            message: `job ${ns}/${name} ${why}; last log lines of ${pod ?? 'its pod'}:\n${log}`,
            nonRetryable: true,
            details: [{ ...progress, pod, log }],
          });
        }
        await pollPause(progress, Math.min(deps.pollIntervalMs ?? 5000, Math.max(0, deadline - Date.now())));
      }
    },
  };
}
