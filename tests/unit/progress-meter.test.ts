import { describe, expect, it } from '@jest/globals';
import { ProgressMeter, progressPercent } from '../../lib/engine/progress-meter';

/** Feeds `rate` bytes/s in steps of `stepMs` from `from` to `to` ms; returns the bytes so far. */
function feed(meter: ProgressMeter, rate: number, from: number, to: number, start = 0, stepMs = 50): number {
  let bytes = start;
  for (let t = from + stepMs; t <= to; t += stepMs) {
    bytes = start + Math.round((rate * (t - from)) / 1000);
    meter.record(bytes, t);
  }
  return bytes;
}

describe('when nothing has arrived yet', () => {
  it('reports a speed of 0 and no ETA', () => {
    const meter = new ProgressMeter({ now: 0 });
    expect(meter.speed(0)).toBe(0);
    expect(meter.speed(1000)).toBe(0);
    expect(meter.eta(1000, 1000)).toBeNull();
  });
});

describe('when bytes arrive at a steady rate', () => {
  it('measures that rate', () => {
    const meter = new ProgressMeter({ now: 0 });
    feed(meter, 1_000_000, 0, 10_000);
    expect(meter.speed(10_000)).toBeCloseTo(1_000_000, -3);
  });

  it('measures from the first sample even before a full window has passed', () => {
    const meter = new ProgressMeter({ now: 0 });
    meter.record(500_000, 500);
    expect(meter.speed(500)).toBe(1_000_000);
  });

  it('follows a change of rate within about one window', () => {
    const meter = new ProgressMeter({ now: 0 });
    const bytes = feed(meter, 1_000_000, 0, 10_000);
    feed(meter, 100_000, 10_000, 14_000, bytes);
    expect(meter.speed(14_000)).toBeCloseTo(100_000, -3);
  });

  it('estimates the seconds left from the current speed', () => {
    const meter = new ProgressMeter({ now: 0 });
    const bytes = feed(meter, 200_000, 0, 5_000); // 1,000,000 bytes in
    expect(bytes).toBe(1_000_000);
    expect(meter.eta(3_000_000, 5_000)).toBe(10);
  });

  it('has no ETA without a known total, and 0 once everything is in', () => {
    const meter = new ProgressMeter({ now: 0 });
    const bytes = feed(meter, 200_000, 0, 5_000);
    expect(meter.eta(null, 5_000)).toBeNull();
    expect(meter.eta(bytes, 5_000)).toBe(0);
  });
});

describe('when bytes stop arriving', () => {
  it('lets the speed decay, then reach 0 after the window', () => {
    const meter = new ProgressMeter({ now: 0 });
    feed(meter, 1_000_000, 0, 10_000);
    const atStop = meter.speed(10_000);
    const later = meter.speed(11_500);
    expect(later).toBeLessThan(atStop);
    expect(later).toBeGreaterThan(0);
    expect(meter.speed(13_100)).toBe(0);
    expect(meter.eta(100_000_000, 13_100)).toBeNull();
  });
});

describe('when the running total goes down (the transfer restarted)', () => {
  it('starts measuring afresh', () => {
    const meter = new ProgressMeter({ now: 0 });
    feed(meter, 1_000_000, 0, 5_000);
    meter.record(0, 5_000);
    meter.record(50_000, 5_500);
    expect(meter.speed(5_500)).toBe(100_000);
  });
});

describe('when a chunk arrives many times per second', () => {
  it('keeps the same answer as sparse samples', () => {
    const dense = new ProgressMeter({ now: 0 });
    const sparse = new ProgressMeter({ now: 0 });
    feed(dense, 2_000_000, 0, 6_000, 0, 1);
    feed(sparse, 2_000_000, 0, 6_000, 0, 500);
    expect(dense.speed(6_000)).toBeCloseTo(sparse.speed(6_000), -4);
  });
});

describe('progressPercent', () => {
  it.each([
    [0, 1000, 0],
    [1, 3, 33.3],
    [2, 3, 66.6],
    [999, 1000, 99.9],
    [9999, 10000, 99.9],
    [1000, 1000, 100],
    [5000, 1000, 100],
    [0, 0, 100],
  ])('%d of %d is %d', (received, total, expected) => {
    expect(progressPercent(received, total)).toBe(expected);
  });

  it('is null while the total is unknown', () => {
    expect(progressPercent(123, null)).toBeNull();
  });
});
