/** restartDeployment's and rollbackDeployment's inputs. */
import { dnsLabel, parseInput, wholeNumber, z } from '../../../contracts/input';

const rolloutShape = {
  /** A deployment listed in K8S_DEPLOYMENTS, in K8S_AI_NAMESPACE. */
  deployment: dnsLabel,
  /** How long the new pods may take to become available; 10 minutes by default. */
  timeoutSeconds: wholeNumber(1, 24 * 3600).default(600),
  /** SCROLLUNIVERSITY_NAMESPACE for one of its deployments; absent, K8S_AI_NAMESPACE. */
  namespace: dnsLabel.optional(),
};

export const rolloutInputSchema = z.object(rolloutShape).strict();
export type RolloutInput = z.input<typeof rolloutInputSchema>;

export const rollbackInputSchema = z
  .object({
    ...rolloutShape,
    /** The revision to return to; the one before the current when absent. */
    toRevision: wholeNumber(1, 2_147_483_647).optional(),
  })
  .strict();
export type RollbackInput = z.input<typeof rollbackInputSchema>;

export const parseRolloutInput = (raw: unknown) => parseInput(rolloutInputSchema, raw, 'restartDeployment');
export const parseRollbackInput = (raw: unknown) => parseInput(rollbackInputSchema, raw, 'rollbackDeployment');
