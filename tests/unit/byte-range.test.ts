import { describe, expect, it } from '@jest/globals';
import { parseByteRange } from '../../lib/server/byte-range';

describe('a Range header', () => {
  it('selects from an offset to the end', () => {
    expect(parseByteRange('bytes=100-', 1000)).toEqual({ start: 100, end: 999 });
  });

  it('selects a closed span, clipped to the file', () => {
    expect(parseByteRange('bytes=0-99', 1000)).toEqual({ start: 0, end: 99 });
    expect(parseByteRange('bytes=900-5000', 1000)).toEqual({ start: 900, end: 999 });
  });

  it('selects the last N bytes', () => {
    expect(parseByteRange('bytes=-10', 1000)).toEqual({ start: 990, end: 999 });
    expect(parseByteRange('bytes=-5000', 1000)).toEqual({ start: 0, end: 999 });
  });

  it('is unsatisfiable past the end or backwards', () => {
    expect(parseByteRange('bytes=1000-', 1000)).toBe('unsatisfiable');
    expect(parseByteRange('bytes=50-10', 1000)).toBe('unsatisfiable');
    expect(parseByteRange('bytes=-0', 1000)).toBe('unsatisfiable');
  });

  it('is ignored (whole file) when absent, malformed or several ranges', () => {
    expect(parseByteRange(null, 1000)).toBeNull();
    expect(parseByteRange('bytes=-', 1000)).toBeNull();
    expect(parseByteRange('items=0-5', 1000)).toBeNull();
    expect(parseByteRange('bytes=0-5,10-20', 1000)).toBeNull();
  });
});
