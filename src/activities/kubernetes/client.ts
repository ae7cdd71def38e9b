/**
 * What every Kubernetes activity shares: the API clients (built lazily, since @kubernetes/client-node is
 * ESM-only and loaded with a dynamic import), the mapping of API errors to our failure types, the check that
 * a name is one of the configured targets, and progress reporting for activities that poll.
 */
import type {
  AppsV1Api,
  BatchV1Api,
  ConfigurationOptions,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  NetworkingV1Api,
} from '@kubernetes/client-node' with { 'resolution-mode': 'import' };
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType, invalidInput } from '../../contracts/failures';
import type { KubernetesTargets, ScrollUniversityConfig } from '../../config';

export interface KubernetesDeps {
  /** Null when no cluster is configured: activities then say so instead of failing. */
  kubeConfig: KubeConfig | null;
  aiNamespace: string;
  targets: KubernetesTargets;
  /** How often polling activities look again; tests shorten it. */
  pollIntervalMs?: number;
  /** ScrollUniversity's namespace and the objects its runbook acts on there. */
  scrollUniversity?: ScrollUniversityConfig;
}

export interface KubeApis {
  core: CoreV1Api;
  apps: AppsV1Api;
  batch: BatchV1Api;
  networking: NetworkingV1Api;
  custom: CustomObjectsApi;
  /** Request options that send a body with the given patch content type. */
  patchAs(strategy: 'strategic' | 'merge' | 'json' | 'apply'): ConfigurationOptions;
}

/** The API clients, made on first use and shared by every Kubernetes activity of one worker. */
export type KubeApisGetter = () => Promise<KubeApis>;

export const NO_CLUSTER = 'no Kubernetes cluster configured (set KUBECONFIG or K8S_IN_CLUSTER=true)';

export function apisFor(deps: KubernetesDeps): KubeApisGetter {
  let apis: Promise<KubeApis> | undefined;
  return () => {
    if (!deps.kubeConfig) {
      return Promise.reject(
        ApplicationFailure.create({ type: FailureType.InvalidInput, message: NO_CLUSTER, nonRetryable: true }),
      );
    }
    const kc = deps.kubeConfig;
    apis ??= import('@kubernetes/client-node').then((k8s) => {
      const contentTypes = {
        strategic: k8s.PatchStrategy.StrategicMergePatch,
        merge: k8s.PatchStrategy.MergePatch,
        json: k8s.PatchStrategy.JsonPatch,
        apply: k8s.PatchStrategy.ServerSideApply,
      };
      return {
        core: kc.makeApiClient(k8s.CoreV1Api),
        apps: kc.makeApiClient(k8s.AppsV1Api),
        batch: kc.makeApiClient(k8s.BatchV1Api),
        networking: kc.makeApiClient(k8s.NetworkingV1Api),
        custom: kc.makeApiClient(k8s.CustomObjectsApi),
        patchAs: (strategy) => k8s.setHeaderOptions('Content-Type', contentTypes[strategy]),
      };
    });
    return apis;
  };
}

export function statusCode(err: unknown): number | undefined {
  const e = err as { code?: number; statusCode?: number; response?: { statusCode?: number } };
  return e.code ?? e.statusCode ?? e.response?.statusCode;
}

/** The API's own explanation (a Status object's message) rather than the client's generic text. */
function apiMessage(err: unknown): string {
  const body = (err as { body?: unknown }).body;
  if (typeof body === 'string') {
    try {
      const parsed = JSON.parse(body) as { message?: string };
      if (parsed.message) return parsed.message;
    } catch {
      // not JSON: fall through to the error's own message
    }
  }
  const message = (err as Error)?.message ?? String(err);
  return message.split('\n')[0];
}

/** Maps API errors to our failure types: 401/403/404/400/422 are not helped by retrying; 409 and 5xx are. */
export function kubernetesFailure(action: string, err: unknown): ApplicationFailure {
  if (err instanceof ApplicationFailure) return err;
  const code = statusCode(err);
  const message = `${action}: ${apiMessage(err)}${code ? ` (HTTP ${code})` : ''}`;
  if (code === 401 || code === 403) {
    return ApplicationFailure.create({ type: FailureType.NotAuthorized, message, nonRetryable: true });
  }
  if (code === 404) return ApplicationFailure.create({ type: FailureType.TargetNotFound, message, nonRetryable: true });
  if (code === 400 || code === 422) {
    return ApplicationFailure.create({ type: FailureType.InvalidInput, message, nonRetryable: true });
  }
  return ApplicationFailure.create({ type: FailureType.UpstreamUnavailable, message });
}

/** Runs one API call, turning its error into a failure that names the action. */
export async function call<T>(action: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw kubernetesFailure(action, err);
  }
}

/** True when the API answered 404 for this call. */
export function isNotFound(err: unknown): boolean {
  return statusCode(err) === 404 || (err instanceof ApplicationFailure && err.type === FailureType.TargetNotFound);
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function requireDnsLabel(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length > 63 || !DNS_LABEL.test(value)) {
    throw invalidInput(field, `${JSON.stringify(value)} is not a lowercase DNS label (a-z, 0-9, -; at most 63)`);
  }
  return value;
}

export function requireObjectName(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length > 253 || !DNS_SUBDOMAIN.test(value)) {
    throw invalidInput(field, `${JSON.stringify(value)} is not a valid Kubernetes object name`);
  }
  return value;
}

/** A name the activities may act on: one the operator listed in the named configuration variable. */
export function requireTarget(field: string, value: unknown, allowed: string[], variable: string): string {
  const name = requireDnsLabel(field, value);
  if (!allowed.includes(name)) {
    throw invalidInput(field, `"${name}" is not a configured target (${variable}: ${allowed.join(', ')})`);
  }
  return name;
}

export function requireWholeNumber(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidInput(field, `must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** The current activity's context, or undefined when the function runs outside a worker (bench, scripts). */
export function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/** Heartbeats progress (so the UI shows it and a cancellation reaches us), then waits before polling again. */
export async function pollPause(details: unknown, ms: number): Promise<void> {
  const ctx = activityContext();
  if (!ctx) {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return;
  }
  ctx.heartbeat(details);
  await ctx.sleep(ms);
}

/** "app=x,tier=y" from a Deployment's matchLabels. */
export function labelSelector(matchLabels: Record<string, string> | undefined): string {
  return Object.entries(matchLabels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/** JSON with object keys sorted and undefined fields dropped, for comparing objects by content. */
export function canonicalJson(value: unknown): string {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canonical)
      : v && typeof v === 'object' && !(v instanceof Date)
        ? Object.fromEntries(
            Object.entries(v)
              .filter(([, x]) => x !== undefined)
              .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
              .map(([k, x]) => [k, canonical(x)]),
          )
        : v;
  return JSON.stringify(canonical(value));
}
