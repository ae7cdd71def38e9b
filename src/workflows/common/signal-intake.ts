/**
 * Signal handlers that take at most SIGNALS_PER_TASK signals of their kind a workflow task.
 *
 * The SDK makes several promises for every signal it hands a handler, and records a source-mapped stack trace for
 * each. A server that kept thousands of signals while no worker polled delivers them in one task, and at about half
 * a millisecond a signal on a quiet 2-core machine (several times that under load) they cost more than the 5 s the
 * SDK gives a task; its retries carry the same signals, so the workflow is wedged (README "A flood in one workflow
 * task"). A signal with no handler costs the SDK an array push: past the budget the handler is unset, the SDK keeps
 * the rest, and a 1 ms timer ends the task. The next task sets the handler again, which hands it the kept signals in
 * the order they came, as many as the budget allows.
 */
import {
  CancellationScope,
  patched,
  setHandler,
  sleep,
  workflowInfo,
  type SignalDefinition,
} from '@temporalio/workflow';

/**
 * Marks runs whose signal handlers take at most SIGNALS_PER_TASK signals a workflow task. Runs from before handed
 * every signal to its handler in the task it came in, and replay the same way.
 */
export const SIGNAL_INTAKE_PATCH = 'signal-intake-per-task';
export const SIGNALS_PER_TASK = 500;

/** What a flood looked like once the kept signals were all handled: for the audit log. */
export interface IntakeCaughtUp {
  signals: number;
  tasks: number;
  durationMs: number;
}

export interface IntakeOptions {
  /** Told once when a task's budget is spent and signals start to be kept for later tasks. */
  deferred?: () => void;
  /** Told when the kept signals have all been handled. */
  caughtUp?: (flood: IntakeCaughtUp) => void;
}

export interface SignalIntake {
  /** Resolves once no signal is kept waiting for a later task; await it before the workflow returns. */
  settled(): Promise<void>;
}

/**
 * Sets `handler` for `signal`, with the budget a task on runs that have SIGNAL_INTAKE_PATCH (asked here, so call it
 * where the workflow starts). `handler` stays synchronous in effect: a promise it returns is the SDK's to track.
 */
export function setSignalHandlerPerTask<Args extends unknown[]>(
  signal: SignalDefinition<Args>,
  handler: (...args: Args) => void | Promise<void>,
  options: IntakeOptions = {},
): SignalIntake {
  if (!patched(SIGNAL_INTAKE_PATCH)) {
    setHandler(signal, handler);
    return { settled: async () => undefined };
  }
  /** The task being counted, told apart by the history length it started at. */
  let task = -1;
  let taken = 0;
  /** Every signal handled so far, to count a flood's. */
  let handled = 0;
  let registered = true;
  let resuming: Promise<void> | undefined;

  const bounded = (...args: Args) => {
    const { historyLength } = workflowInfo();
    if (historyLength !== task) {
      task = historyLength;
      taken = 0;
    }
    taken += 1;
    handled += 1;
    if (taken >= SIGNALS_PER_TASK) {
      registered = false;
      setHandler(signal, undefined);
      resuming ??= resume();
    }
    return handler(...args);
  };

  const resume = () =>
    CancellationScope.nonCancellable(async () => {
      options.deferred?.();
      const sinceMs = Date.now();
      const handledBefore = handled - taken;
      let tasks = 0;
      while (!registered) {
        await sleep(1);
        tasks += 1;
        registered = true;
        // Hands the handler the kept signals, oldest first, until it unsets itself again or none is left.
        setHandler(signal, bounded);
      }
      resuming = undefined;
      options.caughtUp?.({ signals: handled - handledBefore, tasks, durationMs: Date.now() - sinceMs });
    });

  setHandler(signal, bounded);
  return {
    async settled() {
      while (resuming) await resuming;
    },
  };
}
