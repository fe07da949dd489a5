import { chinaTime } from './crypto';

const DAY_MS = 86_400_000;

/** `yyyy-MM-dd` of an instant in Beijing (UTC+8, no daylight saving). */
export const beijingDate = (epochMs: number): string => chinaTime(epochMs).slice(0, 10);

/** A calendar date `days` later (or earlier); dates compare correctly as strings. */
export const addDays = (ymd: string, days: number): string =>
  new Date(Date.parse(`${ymd}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
