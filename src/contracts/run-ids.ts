/**
 * Eight letters of a run id that tell the run from every other, for names that must not collide: backup ids,
 * scratch databases, model versions, Job names. The tail: a version 7 UUID (the run ids current Temporal servers
 * hand out) begins with the start time in milliseconds, so runs started within about a minute of each other share
 * their first eight letters. The head is what runs named things by before.
 */
export type RunIdPiece = 'tail' | 'head';

export function runIdPiece(runId: string, piece: RunIdPiece = 'tail'): string {
  const letters = runId.toLowerCase().replace(/[^a-z0-9]/g, '');
  return piece === 'tail' ? letters.slice(-8) : letters.slice(0, 8);
}
