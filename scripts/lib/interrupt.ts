/**
 * Interrupts of a command that starts services: Ctrl-C (SIGINT), SIGTERM, and SIGHUP when its terminal closes.
 * Once one arrives nothing new is spawned (spawnService refuses), waits and installs in flight give up with
 * `Interrupted`, and the command stops what it started or adopted so far before it exits. Without handlers Node
 * would die at once and leave every service it had spawned running.
 */

export class Interrupted extends Error {
  constructor(readonly signal: NodeJS.Signals) {
    super(`interrupted by ${signal}`);
    this.name = 'Interrupted';
  }
}

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

let received: { signal: NodeJS.Signals; at: number } | undefined;
let firstSignal: Promise<NodeJS.Signals> | undefined;
const listeners = new Set<(signal: NodeJS.Signals) => void>();

/**
 * Installs the handlers (once per process) and resolves with the first interrupt. `onFirst` runs when it
 * arrives, before anything else reacts. A later signal does not cut the clean-up short: Ctrl-C in a terminal
 * reaches npm and node both, and npm passes it on, so every interrupt comes at least twice.
 */
export function catchInterrupts(onFirst?: (signal: NodeJS.Signals) => void): Promise<NodeJS.Signals> {
  if (firstSignal) return firstSignal;
  firstSignal = new Promise((resolve) => {
    let noted = false;
    const handler = (signal: NodeJS.Signals) => {
      if (received) {
        if (!noted && Date.now() - received.at > 1000) {
          noted = true;
          write(`${signal}: still stopping what was started; each service gets 30 s before it is killed\n`);
        }
        return;
      }
      received = { signal, at: Date.now() };
      // After SIGHUP the terminal may be gone: a failed write must not end the clean-up.
      process.stdout.on('error', () => undefined);
      process.stderr.on('error', () => undefined);
      onFirst?.(signal);
      for (const listener of listeners) listener(signal);
      resolve(signal);
    };
    for (const signal of SIGNALS) process.on(signal, handler);
  });
  return firstSignal;
}

function write(text: string): void {
  try {
    process.stdout.write(text);
  } catch {
    // the terminal is gone
  }
}

/** The signal that interrupted this process, if one has. */
export function interruption(): NodeJS.Signals | undefined {
  return received?.signal;
}

export function throwIfInterrupted(): void {
  if (received) throw new Interrupted(received.signal);
}

/** Calls `listener` on the interrupt (at once if it already came); returns the function that unsubscribes. */
export function onInterrupt(listener: (signal: NodeJS.Signals) => void): () => void {
  if (received) {
    listener(received.signal);
    return () => undefined;
  }
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The exit status of a process ended by `signal`, as a shell reports it (130 for SIGINT, 143 for SIGTERM). */
export function signalExitCode(signal: NodeJS.Signals): number {
  const numbers: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };
  return 128 + (numbers[signal] ?? 15);
}
