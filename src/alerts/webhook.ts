/**
 * Alertmanager's webhook payload (version 4), checked before anything is started from it: a sender that is not
 * Alertmanager, or a payload cut short, gets the first problem named in the 400 answer.
 */
import { isoTime, z } from '../contracts/input';

/** Alertmanager's `max_alerts` is unlimited by default; one webhook carries one group, so a bound still fits. */
export const MAX_ALERTS_PER_WEBHOOK = 10_000;

const labelMap = z.record(z.string().max(1024, 'must be at most 1024 characters'), {
  message: 'must be an object of string values',
});

export const webhookAlertSchema = z.object({
  status: z.enum(['firing', 'resolved'], { message: 'must be firing or resolved' }),
  labels: labelMap.refine((l) => typeof l.alertname === 'string' && l.alertname.length > 0, {
    message: 'must have an alertname',
  }),
  annotations: labelMap.default({}),
  startsAt: isoTime,
  // Alertmanager sends the zero time for an alert still firing.
  endsAt: z.string().optional(),
  generatorURL: z.string().optional(),
  fingerprint: z
    .string({ message: 'must be the alert fingerprint (1-64 characters of a-f, 0-9)' })
    .regex(/^[0-9a-fA-F]{1,64}$/, 'must be the alert fingerprint (1-64 characters of a-f, 0-9)'),
});

export const webhookSchema = z.object({
  version: z.literal('4', { errorMap: () => ({ message: 'must be "4" (Alertmanager webhook version 4)' }) }),
  groupKey: z.string().optional(),
  status: z.enum(['firing', 'resolved'], { message: 'must be firing or resolved' }),
  receiver: z.string().optional(),
  alerts: z
    .array(webhookAlertSchema, { message: 'must be a list of alerts' })
    .max(MAX_ALERTS_PER_WEBHOOK, `must hold at most ${MAX_ALERTS_PER_WEBHOOK} alerts`),
});

export type WebhookAlert = z.output<typeof webhookAlertSchema>;
export type Webhook = z.output<typeof webhookSchema>;

/** The payload, or the first problem with it as "field: problem". */
export function parseWebhook(raw: unknown): { ok: true; webhook: Webhook } | { ok: false; reason: string } {
  const result = webhookSchema.safeParse(raw);
  if (result.success) return { ok: true, webhook: result.data };
  const issue = result.error.issues[0];
  const field = issue.path.join('.') || 'payload';
  const received = issue.code === z.ZodIssueCode.invalid_type && issue.received === 'undefined';
  return { ok: false, reason: `${field}: ${received ? 'is required' : issue.message}` };
}
