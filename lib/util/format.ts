/**
 * How bytes, speeds and durations read to people. Pure functions, the same on the server and in the
 * browser (no locale-dependent formatting), so a server-rendered card hydrates unchanged.
 */

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'] as const;
const STEP = 1024;

/** Shown where a value is unknown or does not apply. */
export const NO_VALUE = '—';

/** `0 B`, `512 B`, `1.0 KB`, `12.3 MB`: binary steps, one decimal from KB up. */
export function formatBytes(bytes: number): string {
  return inUnit(bytes, unitFor(bytes));
}

/**
 * `12.3 MB of 20.0 MB`: both in the total's unit, so the two read alike (`0.6 MB of 8.0 MB`,
 * not `576.0 KB of 8.0 MB`); `12.3 MB received` when the total is unknown.
 */
export function formatTransferred(received: number, total: number | null): string {
  if (total === null) return `${formatBytes(received)} received`;
  const unit = unitFor(total);
  return `${inUnit(received, unit)} of ${inUnit(total, unit)}`;
}

/** The index in UNITS that shows `bytes` best: the largest under which it stays below 1024. */
function unitFor(bytes: number): number {
  if (!Number.isFinite(bytes) || bytes < STEP) return 0;
  let unit = 0;
  let value = bytes;
  // Round before comparing, so 1023.96 KB reads as 1.0 MB rather than 1024.0 KB.
  while (unit < UNITS.length - 1 && Number(value.toFixed(1)) >= STEP) {
    value /= STEP;
    unit += 1;
  }
  return unit;
}

function inUnit(bytes: number, unit: number): string {
  const value = Number.isFinite(bytes) && bytes > 0 ? bytes : 0;
  if (unit === 0) return `${Math.round(value)} B`;
  return `${(value / STEP ** unit).toFixed(1)} ${UNITS[unit]}`;
}

/** `2.1 MB/s`; `0 B/s` for a stall. */
export function formatSpeed(bytesPerSecond: number): string {
  return `${formatBytes(bytesPerSecond)}/s`;
}

/** `5 s`, `3 min`, `1 h 5 min`: rounded, for estimates. */
export function formatDuration(seconds: number): string {
  const s = Math.max(1, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const minutes = Math.round(s / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest === 0 ? `${hours} h` : `${hours} h ${rest} min`;
}

/** `about 5 s left`, or `—` when it cannot be estimated. */
export function formatEta(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return NO_VALUE;
  return `about ${formatDuration(seconds)} left`;
}

/** `61%`, rounded down so that 100% means every byte is in. */
export function formatPercent(progress: number): string {
  return `${Math.floor(Math.min(100, Math.max(0, progress)))}%`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

/**
 * `10 Dec, 14:03`, or `10 Dec 2027, 14:03` outside the year of `now`: on the clock of the
 * machine that runs it, or in UTC with `utc` (the same on the server and in every browser).
 */
export function formatDateTime(at: number, now: number, utc = false): string {
  const date = new Date(at);
  const parts = utc
    ? { year: date.getUTCFullYear(), month: date.getUTCMonth(), day: date.getUTCDate(), hours: date.getUTCHours(), minutes: date.getUTCMinutes() }
    : { year: date.getFullYear(), month: date.getMonth(), day: date.getDate(), hours: date.getHours(), minutes: date.getMinutes() };
  const thisYear = utc ? new Date(now).getUTCFullYear() : new Date(now).getFullYear();
  const year = parts.year === thisYear ? '' : ` ${parts.year}`;
  const time = `${String(parts.hours).padStart(2, '0')}:${String(parts.minutes).padStart(2, '0')}`;
  return `${parts.day} ${MONTHS[parts.month]}${year}, ${time}`;
}
