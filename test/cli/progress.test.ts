/**
 * How far a heartbeating activity has come, as `runbook watch` draws it: the purge's share of the SCAN from its
 * lanes' cursors (checked against a real Redis SCAN), the retention delete's key range, a restore's bytes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { progressBar } from '../../src/cli/runbook/output';
import { terminalRows } from '../../src/cli/runbook/status';
import { readProgress, scanFraction } from '../../src/client/progress';
import { REDIS_DB, redisUrlFor } from '../helpers/maintenance';

describe('activity progress from heartbeat details', () => {
  let redis: Redis;
  const prefix = 'progress-test:';

  before(async () => {
    // The CLI test's Redis DB, under a prefix of this file's own.
    redis = new Redis(redisUrlFor(REDIS_DB.cli));
    const batch = redis.pipeline();
    for (let i = 0; i < 20_000; i++) batch.set(`${prefix}${i}`, 'x');
    await batch.exec();
  });
  after(async () => {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
    redis.disconnect();
  });

  it('reads a lane cursor as the reversed-bit share of the table, each lane owning its low bits', () => {
    assert.equal(scanFraction(['0']), 0);
    assert.equal(scanFraction([null]), 1);
    assert.equal(scanFraction(['1']), 0.5); // bit 0 reversed is the top bit: half the table
    assert.equal(scanFraction(['2']), 0.25);
    // Four lanes start at cursors 0-3: nothing visited yet; two lanes through is half of the whole.
    assert.equal(scanFraction(['0', '1', '2', '3']), 0);
    assert.equal(scanFraction([null, null, '2', '3']), 0.5);
    assert.equal(scanFraction(['not-a-cursor']), 0);
  });

  it('rises with a real SCAN from 0 towards 1 and never goes back', async () => {
    const seen: number[] = [];
    let cursor = '0';
    do {
      [cursor] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      seen.push(cursor === '0' ? 1 : scanFraction([cursor]));
    } while (cursor !== '0');
    assert.ok(seen.length > 10, `only ${seen.length} SCAN calls`);
    assert.ok(
      seen.every((f, i) => i === 0 || f >= seen[i - 1]),
      `went back: ${seen.join(' ')}`,
    );
    const mid = seen[Math.floor(seen.length / 2)];
    assert.ok(mid > 0.2 && mid < 0.8, `halfway through the calls the share was ${mid}`);
  });

  it('recognises the purge, the retention delete and a restore, and counts anything else', () => {
    const purge = readProgress({ cursors: [null, '0'], scanned: 10, removed: 7, batches: 2 });
    assert.deepEqual(purge, { fraction: 0.5, counts: 'scanned 10, removed 7' });
    const retention = readProgress({
      lastKey: '250',
      endKey: '1000',
      cutoff: 'x',
      deleted: 40,
      batches: 3,
      rangeWidth: 9,
    });
    assert.deepEqual(retention, { fraction: 0.25, counts: 'deleted 40 in 3 batches' });
    assert.deepEqual(readProgress({ phase: 'restore', bytes: 30, of: 120 }), {
      fraction: 0.25,
      counts: '30 of 120 bytes',
    });
    assert.deepEqual(readProgress({ afterId: 'w-9', notified: 12, failed: 1 }), { counts: 'notified 12, failed 1' });
    assert.equal(readProgress('a string'), undefined);
    assert.equal(readProgress({ phase: 'dump' }), undefined);
  });

  it('draws a bar of fixed width and counts the terminal rows a redraw must clear', () => {
    assert.equal(progressBar(0.5, 10), '[#####.....]  50%');
    assert.equal(progressBar(2, 4), '[####] 100%');
    assert.equal(terminalRows(['short', 'x'.repeat(100), '\x1b[1mbold\x1b[22m'], 80), 4);
  });
});
