/** Business hours as configured (BUSINESS_HOURS, BUSINESS_DAYS, BUSINESS_TIMEZONE), as workflows see them. Types only. */
export interface BusinessHours {
  /** Minutes after local midnight. */
  startMinute: number;
  endMinute: number;
  /** 0 = Sunday ... 6 = Saturday. */
  days: number[];
  /** IANA zone, e.g. Europe/London. */
  timeZone: string;
}
