/**
 * How the runbook CLI writes: colour only to a terminal and never when NO_COLOR is set (no-color.org), one JSON
 * document per line with --json, and errors on stderr.
 */
export class UsageError extends Error {}

/** Exit codes: 0 done, 1 the operation failed or was refused, 2 the command line was wrong. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export interface Output {
  json: boolean;
  /** Whether stdout is a terminal that may be redrawn. */
  tty: boolean;
  line(text?: string): void;
  data(value: unknown): void;
  error(text: string): void;
  paint: Paint;
}

export interface Paint {
  ok(text: string): string;
  bad(text: string): string;
  warn(text: string): string;
  bold(text: string): string;
  dim(text: string): string;
}

const ansi = (code: number, reset: number) => (text: string) => `\x1b[${code}m${text}\x1b[${reset}m`;

export function colourWanted(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(stream.isTTY) && !env.NO_COLOR;
}

export function createOutput(json: boolean, stdout = process.stdout, stderr = process.stderr): Output {
  const colour = !json && colourWanted(stdout);
  const plain = (text: string) => text;
  const paint: Paint = colour
    ? { ok: ansi(32, 39), bad: ansi(31, 39), warn: ansi(33, 39), bold: ansi(1, 22), dim: ansi(2, 22) }
    : { ok: plain, bad: plain, warn: plain, bold: plain, dim: plain };
  return {
    json,
    tty: Boolean(stdout.isTTY),
    line: (text = '') => stdout.write(`${text}\n`),
    data: (value) => stdout.write(`${JSON.stringify(value)}\n`),
    error: (text) => stderr.write(`${colourWanted(stderr) ? paint.bad(text) : text}\n`),
    paint,
  };
}

/** "4m 05s", "2h 10m", "3d 4h": a duration for people. */
export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`;
}

/** An instant with how far it is from now: "2026-11-26T01:00:00Z (in 4m 05s)" or "(3m 10s ago)". */
export function whenFromNow(iso: string, now: number): string {
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return iso;
  const delta = at - now;
  return `${iso} (${delta >= 0 ? `in ${humanDuration(delta)}` : `${humanDuration(-delta)} ago`})`;
}

/** A fixed-width bar: [#########...........]  45%. */
export function progressBar(fraction: number, width = 24): string {
  const f = Math.min(1, Math.max(0, fraction));
  const filled = Math.round(f * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.floor(f * 100)).padStart(3)}%`;
}
