/**
 * seed 000 Data Breach, "Preserve evidence": every pod of the affected deployment, its logs (`kubectl logs`) and
 * its description (`kubectl describe pod`: the pod object and its events), copied to the evidence bucket under
 * `<caseId>/`, each file's SHA-256 in `<caseId>/manifest.json`, written last. Done before the pods are scaled away.
 */
import { createHash } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import type { ScrollUniversityConfig } from '../config';
import type { EvidenceFile, EvidenceManifest } from '../contracts/breach';
import { FailureType, invalidInput } from '../contracts/failures';
import {
  activityContext,
  apisFor,
  call,
  kubernetesFailure,
  labelSelector,
  requireTarget,
  type KubeApisGetter,
  type KubernetesDeps,
} from './kubernetes/client';
import type { S3Deps } from './s3';

export interface EvidenceDeps extends KubernetesDeps, S3Deps {
  scrollUniversity: ScrollUniversityConfig;
}

/** How many lines of each container's log are kept: the most recent, where an intrusion shows. */
const LOG_LINES = 50_000;

export function createEvidenceActivities(deps: EvidenceDeps, apis: KubeApisGetter = apisFor(deps)) {
  const ns = deps.aiNamespace;
  const bucket = deps.scrollUniversity.evidenceBucket;

  /** Writes one file and returns its entry; its SHA-256 also goes into the object's metadata. */
  async function put(key: string, body: string, contentType: string): Promise<EvidenceFile> {
    const bytes = Buffer.from(body, 'utf8');
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    try {
      await deps.s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: bytes,
          ContentType: contentType,
          Metadata: { sha256 },
        }),
      );
    } catch (err) {
      throw ApplicationFailure.create({
        type: FailureType.UpstreamUnavailable,
        message: `evidence s3://${bucket}/${key}: ${(err as Error).name} ${(err as Error).message}`,
      });
    }
    return { key, sha256, bytes: bytes.length };
  }

  return {
    /**
     * Safe to retry: every key is fixed by the case and pod, so a retry overwrites what an earlier attempt wrote,
     * and pods already copied (heartbeated) are not read again. The manifest is written last, so a manifest in
     * the bucket means every file it names is there.
     */
    async preserveEvidence(input: { caseId: string; deployment: string }): Promise<EvidenceManifest> {
      const caseId = String(input?.caseId ?? '');
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(caseId)) {
        throw invalidInput('caseId', 'must be letters, digits, . _ - (at most 128)');
      }
      const deployment = requireTarget('deployment', input.deployment, deps.targets.deployments, 'K8S_DEPLOYMENTS');
      const { apps, core } = await apis();
      const d = await call(`read deployment ${ns}/${deployment}`, () =>
        apps.readNamespacedDeployment({ name: deployment, namespace: ns }),
      );
      const selector = labelSelector(d.spec?.selector?.matchLabels);
      const pods = await call(`list pods of ${ns}/${deployment}`, () =>
        core.listNamespacedPod({ namespace: ns, labelSelector: selector }),
      );
      const ctx = activityContext();
      const earlier = ctx?.info.heartbeatDetails as { files?: EvidenceFile[]; pods?: string[] } | undefined;
      const files: EvidenceFile[] = [...(earlier?.files ?? [])];
      const done = new Set(earlier?.pods ?? []);
      const logErrors: { pod: string; container: string; error: string }[] = [];
      for (const pod of pods.items) {
        const name = pod.metadata!.name!;
        if (done.has(name)) continue;
        const events = await call(`list events of pod ${ns}/${name}`, () =>
          core.listNamespacedEvent({ namespace: ns, fieldSelector: `involvedObject.name=${name}` }),
        );
        const described = {
          pod: { ...pod, metadata: { ...pod.metadata, managedFields: undefined } },
          events: events.items,
        };
        files.push(
          await put(`${caseId}/${name}/describe.json`, JSON.stringify(described, null, 2), 'application/json'),
        );
        for (const container of pod.spec?.containers ?? []) {
          let log: string;
          try {
            log = String(
              (await core.readNamespacedPodLog({
                name,
                namespace: ns,
                container: container.name,
                tailLines: LOG_LINES,
              })) ?? '',
            );
          } catch (err) {
            // A container that never started has no log; that is itself evidence, kept in the manifest.
            logErrors.push({ pod: name, container: container.name, error: kubernetesFailure('read log', err).message });
            continue;
          }
          files.push(await put(`${caseId}/${name}/${container.name}.log`, log, 'text/plain'));
        }
        done.add(name);
        ctx?.heartbeat({ files, pods: [...done] });
      }
      const manifest: EvidenceManifest = {
        caseId,
        bucket,
        namespace: ns,
        deployment,
        pods: [...done],
        files,
        logErrors,
        collectedAt: new Date().toISOString(),
      };
      const written = await put(`${caseId}/manifest.json`, JSON.stringify(manifest, null, 2), 'application/json');
      return { ...manifest, manifestKey: written.key, manifestSha256: written.sha256 };
    },
  };
}
