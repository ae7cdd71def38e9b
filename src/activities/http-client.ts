/**
 * The one HTTP client of our activities. Maps answers to failure types so retry policies can tell a passing
 * outage (retry) from a wrong request or missing credentials (do not).
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../contracts/failures';

export interface JsonResponse {
  status: number;
  latencyMs: number;
  body: unknown;
}

export interface RequestOptions {
  method?: 'GET' | 'POST';
  body?: unknown;
  bearerToken?: string;
  /** Sent as Idempotency-Key so a receiver can drop the repeat of a retried request. */
  idempotencyKey?: string;
  timeoutMs: number;
  /** Name of the setting holding the credentials, for the 401/403 message. */
  credentialsSetting?: string;
  /** Keep 5xx answers that carry a JSON body (health endpoints report why they are unhealthy). */
  keepErrorBodies?: boolean;
}

/** The calling activity's cancellation (the workflow's, or the worker's at the end of its shutdown grace time). */
function activityCancellation(): AbortSignal | undefined {
  try {
    return Context.current().cancellationSignal;
  } catch {
    return undefined; // not called from an activity
  }
}

export async function requestJson(url: string, options: RequestOptions): Promise<JsonResponse> {
  const method = options.method ?? 'GET';
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.bearerToken) headers.authorization = `Bearer ${options.bearerToken}`;
  if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const cancelled = activityCancellation();
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const started = performance.now();
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: cancelled ? AbortSignal.any([timeout, cancelled]) : timeout,
    });
  } catch (err) {
    // A cancelled request confirms the activity's cancellation, so a stopping worker need not wait it out.
    if (cancelled?.aborted) throw cancelled.reason;
    const cause = (err as Error & { cause?: Error }).cause;
    throw ApplicationFailure.create({
      type: FailureType.UpstreamUnavailable,
      message: `${method} ${url} failed: ${cause?.message ?? (err as Error).message}`,
    });
  }
  const latencyMs = Math.round(performance.now() - started);
  const text = await response.text();
  if (response.status === 401 || response.status === 403) {
    throw ApplicationFailure.create({
      type: FailureType.NotAuthorized,
      message: `${method} ${url} answered ${response.status}${options.credentialsSetting ? `: check ${options.credentialsSetting}` : ''}`,
      nonRetryable: true,
    });
  }
  if (response.status === 404) {
    throw ApplicationFailure.create({
      type: FailureType.TargetNotFound,
      message: `${method} ${url} answered 404`,
      nonRetryable: true,
    });
  }
  let body: unknown = undefined;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // A non-JSON body is reported below together with the status.
  }
  if (response.status >= 500 || response.status === 429 || response.status === 408) {
    if (options.keepErrorBodies && body !== undefined) return { status: response.status, latencyMs, body };
    throw ApplicationFailure.create({
      type: FailureType.UpstreamUnavailable,
      message: `${method} ${url} answered ${response.status}`,
    });
  }
  if (response.status >= 400) {
    throw ApplicationFailure.create({
      type: FailureType.BadUpstreamResponse,
      message: `${method} ${url} answered ${response.status}: ${text.slice(0, 200)}`,
      nonRetryable: true,
    });
  }
  return { status: response.status, latencyMs, body };
}

/** A JSON object body, or a non-retryable failure saying what came instead. */
export function expectObject(url: string, res: JsonResponse): Record<string, unknown> {
  if (typeof res.body !== 'object' || res.body === null || Array.isArray(res.body)) {
    throw ApplicationFailure.create({
      type: FailureType.BadUpstreamResponse,
      message: `${url} answered ${res.status} without a JSON object`,
      nonRetryable: true,
    });
  }
  return res.body as Record<string, unknown>;
}
