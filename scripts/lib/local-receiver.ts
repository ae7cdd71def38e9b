/** Points every outbound HTTP endpoint of the runbooks at one local receiver, for benchmarks and recordings. */
import { OUTBOUND_URL_VARIABLES } from '../../src/config';

export function outboundUrlsAt(base: string): Record<string, string> {
  return Object.fromEntries(OUTBOUND_URL_VARIABLES.map((name) => [name, `${base}/${name.toLowerCase()}`]));
}
