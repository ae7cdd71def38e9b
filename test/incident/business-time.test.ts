import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nextBusinessDayStart } from '../../src/workflows/incident/business-time';

const LONDON = { startMinute: 9 * 60, endMinute: 17 * 60, days: [1, 2, 3, 4, 5], timeZone: 'Europe/London' };
const at = (iso: string) => Date.parse(iso);
const next = (iso: string, hours = LONDON) => new Date(nextBusinessDayStart(at(iso), hours)).toISOString();

describe('next business day (P3 acknowledgement deadline)', () => {
  it('goes from a Friday afternoon to Monday 09:00, across the weekend', () => {
    assert.equal(next('2026-11-20T16:00:00Z'), '2026-11-23T09:00:00.000Z'); // Fri → Mon, GMT
  });

  it('goes from Saturday and Sunday to Monday', () => {
    assert.equal(next('2026-11-21T10:00:00Z'), '2026-11-23T09:00:00.000Z');
    assert.equal(next('2026-11-22T23:30:00Z'), '2026-11-23T09:00:00.000Z');
  });

  it('goes from a weekday to the following weekday, even before opening time', () => {
    assert.equal(next('2026-11-24T07:00:00Z'), '2026-11-25T09:00:00.000Z'); // Tue 07:00 → Wed 09:00
  });

  it('uses the local date, not the UTC date', () => {
    // 23:30 UTC on Sunday 2026-06-14 is already Monday 00:30 in London (BST): next is Tuesday 09:00 BST.
    assert.equal(next('2026-06-14T23:30:00Z'), '2026-06-16T08:00:00.000Z');
  });

  it('follows daylight saving time: opening is 09:00 local on both sides of the change', () => {
    // Clocks go forward on Sunday 2026-03-29: Friday's next business day, Monday, opens at 08:00 UTC.
    assert.equal(next('2026-03-27T15:00:00Z'), '2026-03-30T08:00:00.000Z');
    assert.equal(next('2026-10-23T15:00:00Z'), '2026-10-26T09:00:00.000Z'); // back to GMT on 2026-10-25
  });

  it('honours another zone and another working week', () => {
    const ny = { startMinute: 8 * 60 + 30, endMinute: 17 * 60, days: [0, 1, 2, 3, 4], timeZone: 'America/New_York' };
    // Thursday 2026-11-19 evening in New York → next business day Sunday 2026-11-22 08:30 EST (13:30 UTC).
    assert.equal(next('2026-11-19T23:00:00Z', ny), '2026-11-22T13:30:00.000Z');
  });
});
