/**
 * "Next business day" in the configured time zone, for P3's acknowledgement deadline (seed 000: "Response
 * Time: Next business day"). Pure code with Intl only: deterministic for the same inputs, used in workflows.
 */
import type { BusinessHours } from '../../contracts/business-hours';

interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  weekday: number;
}

const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

function localParts(ms: number, timeZone: string): LocalParts {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    weekday: 'short',
  }).formatToParts(new Date(ms));
  const get = (type: string) => parts.find((p) => p.type === type)!.value;
  return {
    year: Number(get('year')),
    month: Number(get('month')),
    day: Number(get('day')),
    hour: Number(get('hour')),
    minute: Number(get('minute')),
    weekday: WEEKDAYS[get('weekday')],
  };
}

/** The UTC instant at which the wall clock in timeZone shows the given local date and minute of day. */
function instantOf(year: number, month: number, day: number, minuteOfDay: number, timeZone: string): number {
  const wall = Date.UTC(year, month - 1, day, Math.floor(minuteOfDay / 60), minuteOfDay % 60);
  let guess = wall;
  // Two passes settle the zone offset, including on the day a daylight-saving change happens.
  for (let i = 0; i < 2; i++) {
    const p = localParts(guess, timeZone);
    const shown = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute);
    guess += wall - shown;
  }
  return guess;
}

/** Opening time of the first business day after the local date of `nowMs`. */
export function nextBusinessDayStart(nowMs: number, hours: BusinessHours): number {
  const today = localParts(nowMs, hours.timeZone);
  for (let offset = 1; offset <= 14; offset++) {
    // Calendar arithmetic on a UTC date avoids the zone entirely; the zone is applied once, at the end.
    const date = new Date(Date.UTC(today.year, today.month - 1, today.day + offset));
    if (!hours.days.includes(date.getUTCDay())) continue;
    return instantOf(
      date.getUTCFullYear(),
      date.getUTCMonth() + 1,
      date.getUTCDate(),
      hours.startMinute,
      hours.timeZone,
    );
  }
  throw new Error('BUSINESS_DAYS names no day of the week');
}
