/**
 * Inputs declared once, as zod schemas, and refused the same way everywhere: the first problem becomes a
 * non-retryable `InvalidInput` whose message starts with the field's path. Workflow-safe (zod has no Node APIs),
 * so a workflow refuses bad input before it schedules anything, and an activity that can be called directly
 * checks again with the same schema.
 */
import { z } from 'zod';
import { invalidInput } from './failures';

/** Schemas are written with zod's builder, taken from here so that workflow modules import nothing but contracts. */
export { z };

/** Longest field name a refusal quotes: an unknown key may be of any length, and the refusal goes into history. */
const MAX_FIELD_CHARS = 100;

/**
 * A field's path as people read it, `monitor.timeoutSeconds`, `namespaces.0`; a key that is not a plain word (empty,
 * with a dot, a space or a control character in it) quoted as JSON, so that every key sent is named, and cut short.
 */
export function fieldName(path: readonly (string | number)[]): string {
  const name = path
    .map((k) => (typeof k === 'number' || /^[\w$-]+$/.test(k) ? String(k) : JSON.stringify(k)))
    .join('.');
  return name.length > MAX_FIELD_CHARS ? `${name.slice(0, MAX_FIELD_CHARS)}…` : name;
}

/** The first problem zod found, as the field it is about and what is wrong, in our words. */
function describe(issue: z.ZodIssue, what: string): [string, string] {
  const path = fieldName(issue.path);
  if (issue.code === z.ZodIssueCode.unrecognized_keys) {
    return [fieldName([...issue.path, issue.keys[0]]), `is not a field of ${what} input`];
  }
  if (issue.code === z.ZodIssueCode.invalid_union) {
    // A field of several forms (a restore's target): missing in every form is missing, else the first form's problem.
    const firsts = issue.unionErrors.flatMap((e) => e.issues.slice(0, 1));
    const missing = (i: z.ZodIssue) =>
      i.code === z.ZodIssueCode.invalid_type && i.received === 'undefined' && i.path.length === issue.path.length;
    if (firsts.length > 0 && firsts.every(missing)) return [path || 'input', 'is required'];
    if (firsts.length > 0) return describe(firsts[0], what);
  }
  if (issue.code === z.ZodIssueCode.invalid_type && issue.path.length === 0) return ['input', 'must be a JSON object'];
  if (issue.code === z.ZodIssueCode.invalid_type && issue.received === 'undefined') return [path, 'is required'];
  return [path || 'input', issue.message];
}

/** Parses `raw` with `schema`, or throws the non-retryable InvalidInput naming the first field at fault. */
export function parseInput<S extends z.ZodTypeAny>(schema: S, raw: unknown, what: string): z.output<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const [field, problem] = describe(result.error.issues[0], what);
  throw invalidInput(field, problem);
}

/** An input object whose every field is optional: absent or null input means all defaults. */
export function optionalObject<T extends z.ZodRawShape>(shape: T) {
  return z.preprocess((v) => v ?? {}, z.object(shape).strict());
}

/** A whole number within bounds, with the message every input uses. */
export const wholeNumber = (min: number, max: number) =>
  z
    .number({ message: `must be a whole number from ${min} to ${max}` })
    .int(`must be a whole number from ${min} to ${max}`)
    .min(min, `must be a whole number from ${min} to ${max}`)
    .max(max, `must be a whole number from ${min} to ${max}`);

/** An ISO 8601 date-time such as 2026-11-29T04:00:00Z. */
export const isoTime = z
  .string({ message: 'must be an ISO 8601 date-time, e.g. 2026-11-29T04:00:00Z' })
  .refine(
    (s) => /^\d{4}-\d{2}-\d{2}T/.test(s) && !Number.isNaN(Date.parse(s)),
    'must be an ISO 8601 date-time, e.g. 2026-11-29T04:00:00Z',
  );

/** A Kubernetes object or namespace name (RFC 1123 label). */
export const dnsLabel = z
  .string({ message: 'must be a Kubernetes name (lowercase letters, digits, -)' })
  .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'must be a Kubernetes name (lowercase letters, digits, -)');

/** One of a fixed list, with the list in the message. */
export const oneOf = <T extends string>(values: readonly [T, ...T[]]) =>
  z.enum(values, { errorMap: () => ({ message: `must be one of ${values.join(', ')}` }) });
