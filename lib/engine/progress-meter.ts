/**
 * Download speed over a sliding window, and the figures derived from it (ETA, percent).
 * Pure: time is passed in, so tests need no clock.
 */

export interface ProgressMeterOptions {
  /** How far back the speed looks. Default 3 s. */
  windowMs?: number;
  /** When the transfer started, with 0 bytes. Default now. */
  now?: number;
}

interface Sample {
  time: number;
  bytes: number;
}

/** Samples closer together than this are merged, so per-chunk calls keep the list short. */
const MIN_SAMPLE_GAP_MS = 100;

export class ProgressMeter {
  private readonly windowMs: number;
  /** samples[0] is the newest sample at or before the window's start: the baseline. */
  private samples: Sample[];

  constructor({ windowMs = 3000, now = Date.now() }: ProgressMeterOptions = {}) {
    this.windowMs = windowMs;
    this.samples = [{ time: now, bytes: 0 }];
  }

  /** Notes that `bytesReceived` bytes (a running total) have arrived by `now`. */
  record(bytesReceived: number, now = Date.now()): void {
    const last = this.samples[this.samples.length - 1];
    if (bytesReceived < last.bytes) {
      this.samples = [{ time: now, bytes: bytesReceived }]; // the transfer restarted
      return;
    }
    const beforeLast = this.samples[this.samples.length - 2];
    if (beforeLast && now - beforeLast.time < MIN_SAMPLE_GAP_MS) {
      this.samples[this.samples.length - 1] = { time: now, bytes: bytesReceived };
    } else {
      this.samples.push({ time: now, bytes: bytesReceived });
    }
    this.prune(now);
  }

  /** Bytes per second over the window; 0 before any bytes, and falls to 0 once they stop. */
  speed(now = Date.now()): number {
    this.prune(now);
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    const elapsed = now - first.time;
    if (last === first || elapsed <= 0) return 0;
    return ((last.bytes - first.bytes) * 1000) / elapsed;
  }

  /** Seconds left (rounded up), 0 when done, or null when the total or the speed is unknown. */
  eta(bytesTotal: number | null, now = Date.now()): number | null {
    if (bytesTotal === null) return null;
    const remaining = bytesTotal - this.samples[this.samples.length - 1].bytes;
    if (remaining <= 0) return 0;
    const speed = this.speed(now);
    return speed > 0 ? Math.ceil(remaining / speed) : null;
  }

  private prune(now: number): void {
    const windowStart = now - this.windowMs;
    while (this.samples.length > 1 && this.samples[1].time <= windowStart) this.samples.shift();
  }
}

/**
 * Percent done, 0–100 with one decimal, rounded down so that 100 means every byte is in;
 * null while the total is unknown.
 */
export function progressPercent(received: number, total: number | null): number | null {
  if (total === null) return null;
  if (total <= 0) return 100;
  const percent = Math.floor((received * 1000) / total) / 10;
  return Math.min(100, Math.max(0, percent));
}
