/** morningHealthCheck's input. */
import { parseInput, dnsLabel, optionalObject } from '../../contracts/input';
import type { z } from 'zod';

export const morningHealthCheckInputSchema = optionalObject({
  /** Kubernetes namespace whose pods are listed; the configured K8S_AI_NAMESPACE when absent. */
  namespace: dnsLabel.optional(),
});
export type MorningHealthCheckInput = z.input<typeof morningHealthCheckInputSchema>;

export const parseMorningHealthCheckInput = (raw: unknown) => parseInput(morningHealthCheckInputSchema, raw, 'morningHealthCheck');
