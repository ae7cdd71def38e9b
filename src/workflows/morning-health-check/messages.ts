/** morningHealthCheck's input. */
import { parseInput, dnsLabel, optionalObject, type z } from '../../contracts/input';

export const morningHealthCheckInputSchema = optionalObject({
  /** Kubernetes namespace whose pods are listed; the configured K8S_AI_NAMESPACE when absent. */
  namespace: dnsLabel.optional(),
});
export type MorningHealthCheckInput = z.input<typeof morningHealthCheckInputSchema>;

export const parseMorningHealthCheckInput = (raw: unknown) =>
  parseInput(morningHealthCheckInputSchema, raw, 'morningHealthCheck');
