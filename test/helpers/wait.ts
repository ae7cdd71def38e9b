/** Every wait in a test has a deadline: polls until `probe` satisfies `pred`, or fails naming what never came. */
export async function waitUntil<T>(
  what: string,
  probe: () => Promise<T> | T,
  pred: (v: T) => boolean = Boolean,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await probe();
  while (!pred(value)) {
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
    value = await probe();
  }
  return value;
}

/** Resolves when the child process exits, or fails after `timeoutMs`. */
export function exited(
  child: { once(event: 'exit', fn: () => void): unknown; exitCode: number | null; signalCode: string | null },
  timeoutMs = 30_000,
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the process did not exit within ${timeoutMs} ms`)), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
