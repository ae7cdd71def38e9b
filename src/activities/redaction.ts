/**
 * Keeps secrets out of history, in one place. Every activity runs inside `redactingActivityInterceptor`: the error
 * it throws (an HTTP failure naming its URL, a PostgreSQL, Redis or S3 error quoting its connection string) and the
 * text it returns leave the worker with
 * - each configured secret URL (a Slack webhook URL is itself the credential) shown as its origin and the setting's
 *   name only: `https://hooks.slack.com/… (SLACK_WEBHOOK_URL)`;
 * - every other URL without its user and password, and, in error texts, without its query values;
 * - every configured secret value (passwords, tokens, routing and access keys) and any `Bearer` token as `***`.
 * History is what Temporal stores and the Web UI shows: an error message is the easiest way a secret gets there.
 */
import type { ActivityInboundCallsInterceptor, ActivityInterceptorsFactory } from '@temporalio/worker';
import { OUTBOUND_URL_VARIABLES, type AppConfig } from '../config';

export interface Secrets {
  /** URLs whose path or query is a credential, by the setting that holds them. */
  urls: { setting: string; url: string }[];
  /** Values that must never be shown. */
  values: string[];
}

const MASK = '***';
const MIN_SECRET_LENGTH = 4;

/** The URL settings our config exposes, by variable name, for the secret-URL list. */
function outboundUrls(config: AppConfig): Record<(typeof OUTBOUND_URL_VARIABLES)[number], string> {
  const c = config.wedsync.crisis;
  return {
    WEDSYNC_EMERGENCY_ALERT_URL: c.emergencyAlertUrl,
    WEDSYNC_MANUAL_MODE_URL: c.manualModeUrl,
    WEDSYNC_COUPLE_NOTIFY_URL: c.coupleNotifyUrl,
    WEDSYNC_EMERGENCY_PLANNERS_URL: c.emergencyPlannersUrl,
    WEDSYNC_VENDOR_NETWORK_URL: c.vendorNetworkUrl,
    WEDSYNC_EXECUTIVE_ESCALATION_URL: c.executiveEscalationUrl,
    WEDSYNC_CRISIS_COMMS_URL: c.crisisCommsUrl,
    SLACK_WEBHOOK_URL: config.notifications.slackWebhookUrl,
    PAGERDUTY_EVENTS_URL: config.notifications.pagerdutyEventsUrl,
  };
}

const passwordOf = (url: string) => {
  try {
    return decodeURIComponent(new URL(url).password);
  } catch {
    return '';
  }
};

/** The secrets of a configuration: every webhook URL a runbook calls and every credential. */
export function configuredSecrets(config: AppConfig): Secrets {
  const values = [
    passwordOf(config.postgres.url),
    passwordOf(config.backups.databaseUrl),
    passwordOf(config.redis.url),
    config.s3.secretAccessKey,
    config.wedsync.apiToken,
    config.notifications.pagerdutyRoutingKey,
    config.alerts?.token,
    config.codecServer?.token,
    ...config.payloads.keys.map((k) => k.key.toString('base64')),
  ].filter((v): v is string => typeof v === 'string' && v.length >= MIN_SECRET_LENGTH);
  const urls = Object.entries(outboundUrls(config)).map(([setting, url]) => ({ setting, url }));
  // Longest first: a password that begins another secret must not leave that one's tail behind.
  return { urls, values: [...new Set(values)].sort((a, b) => b.length - a.length) };
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** A URL in running text: up to whitespace, a quote or a closing bracket. */
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>)\]]+/gi;

/** One URL as it may be shown: no user or password, no query values (`withQuery` false keeps the query). */
export function redactUrl(raw: string, secrets: Secrets, { withQuery = false } = {}): string {
  const secret = secrets.urls
    .filter((s) => raw.startsWith(s.url.replace(/\/$/, '')))
    .sort((a, b) => b.url.length - a.url.length)[0];
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return raw;
  }
  if (secret) return `${url.origin}/… (${secret.setting})`;
  if (!url.username && !url.password && (withQuery || !url.search)) return raw;
  url.username = url.username ? MASK : '';
  url.password = url.password ? MASK : '';
  if (!withQuery) for (const key of [...url.searchParams.keys()]) url.searchParams.set(key, MASK);
  return url.toString().replace(/%2A%2A%2A/g, MASK);
}

/** A text as it may enter history: secret values, URLs and bearer tokens redacted. */
export function redactText(text: string, secrets: Secrets, { withQuery = false } = {}): string {
  let out = text.replace(URL_IN_TEXT, (url) => redactUrl(url, secrets, { withQuery }));
  for (const value of secrets.values) {
    out = out.replace(new RegExp(escape(value), 'g'), MASK);
    const encoded = encodeURIComponent(value);
    if (encoded !== value) out = out.replace(new RegExp(escape(encoded), 'g'), MASK);
  }
  return out.replace(/\bBearer\s+[A-Za-z0-9._~+/=-]+/g, `Bearer ${MASK}`);
}

/** An error and its causes, message and stack redacted in place (the failure converter reads both). */
export function redactError(err: unknown, secrets: Secrets, seen = new Set<unknown>()): unknown {
  if (!(err instanceof Error) || seen.has(err)) return err;
  seen.add(err);
  err.message = redactText(err.message, secrets);
  if (err.stack) err.stack = redactText(err.stack, secrets);
  redactError(err.cause, secrets, seen);
  return err;
}

/** Strings of a result with secret URLs, credentials and tokens redacted; query strings are data here, kept. */
export function redactValue(value: unknown, secrets: Secrets): unknown {
  if (typeof value === 'string') return redactText(value, secrets, { withQuery: true });
  if (Array.isArray(value)) return value.map((v) => redactValue(v, secrets));
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactValue(v, secrets)]));
  }
  return value;
}

/** The worker's activity interceptor: what an activity returns or throws is redacted before it is encoded. */
export function redactingActivityInterceptor(secrets: Secrets): ActivityInterceptorsFactory {
  const inbound: ActivityInboundCallsInterceptor = {
    async execute(input, next) {
      try {
        return redactValue(await next(input), secrets);
      } catch (err) {
        throw redactError(err, secrets);
      }
    },
  };
  return () => ({ inbound });
}
