/**
 * Beijing calendar dates (`yyyy-MM-dd`), in which WeChat Pay books repayments. China has one time zone, UTC+8,
 * without daylight saving, so a fixed offset is exact. Dates in this form compare correctly as strings.
 */
const BEIJING_OFFSET_MS = 8 * 3600_000;
const DAY_MS = 86_400_000;

/** The Beijing date of an instant (epoch ms). */
export const beijingDate = (epochMs: number): string =>
  new Date(epochMs + BEIJING_OFFSET_MS).toISOString().slice(0, 10);

/** The calendar date `days` after `ymd` (before, when negative). */
export const addDays = (ymd: string, days: number): string =>
  new Date(Date.parse(`${ymd}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);

/** True when `ymd` is a real calendar date written `yyyy-MM-dd` (no 2026-02-30). */
export function isCalendarDate(ymd: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(ymd)) return false;
  const parsed = Date.parse(`${ymd}T00:00:00Z`);
  return Number.isFinite(parsed) && new Date(parsed).toISOString().slice(0, 10) === ymd;
}
