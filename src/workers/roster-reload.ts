/**
 * The roster, re-read while the worker runs: on SIGHUP the worker reads its configuration again (AIOPS_CONFIG_FILE
 * and the environment) and puts the new roster in place of the old one. Gates read the worker's roster at every
 * decision and notifications at every send, so a person removed, added or given a new key counts from the next
 * decision of every running workflow, without a restart. A configuration that does not validate changes nothing.
 */
import { loadConfig, type AppConfig, type Person } from '../config';

export type RosterReload = { ok: true; people: number } | { ok: false; error: string };

/** Replaces the contents of `roster` (the array every activity holds) with the roster `load` reads now. */
export function reloadRoster(roster: Person[], load: () => AppConfig = loadConfig): RosterReload {
  let next: Person[];
  try {
    next = load().roster;
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
  roster.splice(0, roster.length, ...next);
  return { ok: true, people: next.length };
}

/** Reloads the roster on every SIGHUP, logging each outcome as one JSON line. */
export function reloadRosterOnHangup(roster: Person[]): () => void {
  const onHangup = () => {
    const outcome = reloadRoster(roster);
    const line = outcome.ok
      ? { level: 'info', message: 'roster reloaded', people: outcome.people }
      : { level: 'error', message: 'roster not reloaded; the previous one stays', error: outcome.error };
    process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...line })}\n`);
  };
  process.on('SIGHUP', onHangup);
  return () => process.off('SIGHUP', onHangup);
}
