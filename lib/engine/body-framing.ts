/**
 * Where an HTTP/1.x response body ends (RFC 9112, 6.3): after Content-Length bytes, after the
 * last chunk of a chunked body, or when the server closes the connection. Each framing works in
 * place on the buffer the bytes were read into, so body bytes are never copied for it (chunk
 * framing, when there is any, is squeezed out by moving the data that follows it).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { isFieldLine, malformed } from './http-head';

export interface BodyFraming {
  /** Keeps the body bytes of `buffer[0, length)`, in order, at its start; returns how many there are. */
  decode(buffer: Buffer, length: number): number;
  /** Whether the body is whole: nothing that follows belongs to it. */
  readonly done: boolean;
  /** Whether the end of the connection is the end of the body (the server gave no other). */
  readonly endsWithConnection: boolean;
}

/** The framing of a response to a GET with this status and these headers. */
export function framingOf(status: number, headers: IncomingHttpHeaders, host: string): BodyFraming {
  if (status === 204 || status === 304) return new LengthFraming(0);
  const codings = headers['transfer-encoding'];
  if (codings !== undefined) {
    // The request sends no TE field, so chunked, once, is the only transfer coding a server may
    // apply (RFC 9112 6.1, 7.4); under any other the file would be stored still encoded.
    const list = codings.split(',').map((coding) => coding.trim()).filter(Boolean);
    if (list.length !== 1 || list[0].toLowerCase() !== 'chunked') throw malformed(host, 'a transfer coding other than chunked');
    return new ChunkedFraming(host);
  }
  const length = headers['content-length'];
  if (length === undefined) return new ConnectionFraming();
  // Past 2^53 a count would no longer be exact.
  if (!/^\d+$/.test(length) || !Number.isSafeInteger(Number(length))) throw malformed(host, 'a Content-Length that is not a number');
  return new LengthFraming(Number(length));
}

class LengthFraming implements BodyFraming {
  readonly endsWithConnection = false;
  constructor(private left: number) {}

  get done(): boolean {
    return this.left === 0;
  }

  decode(_buffer: Buffer, length: number): number {
    const taken = Math.min(length, this.left); // bytes past the length are not the file's
    this.left -= taken;
    return taken;
  }
}

class ConnectionFraming implements BodyFraming {
  readonly done = false;
  readonly endsWithConnection = true;

  decode(_buffer: Buffer, length: number): number {
    return length;
  }
}

const LF = 0x0a;
/** Longest chunk-size or trailer line kept: sizes are a few hex digits, extensions (ignored) short. */
const MAX_LINE = 4096;
/** Most bytes of trailer fields (ignored) after the last chunk, as for a head. */
const MAX_TRAILER = 16 * 1024;
/**
 * RFC 9112 7.1: a size in hex, then extensions. Twelve digits (leading zeros aside) stay exact
 * in a number and allow 256 TiB; more is refused rather than overflowed.
 */
const CHUNK_SIZE = /^0*([0-9a-fA-F]{1,12})[ \t]*(;.*)?$/;

class ChunkedFraming implements BodyFraming {
  readonly endsWithConnection = false;
  private state: 'size' | 'data' | 'after-data' | 'trailer' | 'done' = 'size';
  /** Data bytes left in the current chunk. */
  private left = 0;
  /** The line read so far, when it spans two reads. */
  private line = '';
  private trailerBytes = 0;

  constructor(private readonly host: string) {}

  get done(): boolean {
    return this.state === 'done';
  }

  decode(buffer: Buffer, length: number): number {
    let read = 0;
    let kept = 0;
    while (read < length && this.state !== 'done') {
      if (this.state === 'data') {
        const take = Math.min(this.left, length - read);
        if (kept !== read) buffer.copyWithin(kept, read, read + take);
        kept += take;
        read += take;
        this.left -= take;
        if (this.left === 0) this.state = 'after-data';
        continue;
      }
      const lineEnd = buffer.indexOf(LF, read);
      const end = lineEnd < 0 || lineEnd >= length ? length : lineEnd;
      // Checked before the bytes become a string: a server could send a whole read without an LF.
      if (this.line.length + (end - read) > MAX_LINE) throw malformed(this.host, 'a chunked body with an overlong line');
      this.line += buffer.toString('latin1', read, end);
      read = end;
      if (end === length) break;
      read++; // the LF
      this.endLine(this.line.replace(/\r$/, ''));
      this.line = '';
    }
    return kept; // bytes after the last chunk (and its trailers) are not the body's
  }

  private endLine(line: string): void {
    if (/[\0\r]/.test(line)) throw malformed(this.host, 'a chunked body holding a NUL or a bare CR');
    if (this.state === 'size') {
      const size = CHUNK_SIZE.exec(line);
      if (!size) throw malformed(this.host, 'a chunked body with a bad chunk size');
      this.left = parseInt(size[1], 16);
      this.state = this.left === 0 ? 'trailer' : 'data';
    } else if (this.state === 'after-data') {
      // The data must end with its CRLF: anything else means the size was wrong, and the rest cannot be trusted.
      if (line !== '') throw malformed(this.host, 'a chunked body with a chunk longer than it said');
      this.state = 'size';
    } else if (line === '') {
      this.state = 'done'; // trailer fields, if any, end with an empty line; none are used
    } else {
      // Ignored, but bounded: else a server could keep a finished body open with trailers forever.
      const folded = this.trailerBytes > 0 && /^[ \t]/.test(line); // continues the field above (RFC 9112 5.2)
      this.trailerBytes += line.length + 2;
      if (this.trailerBytes > MAX_TRAILER) throw malformed(this.host, `trailer fields larger than ${MAX_TRAILER / 1024} KiB`);
      if (!folded && !isFieldLine(line)) throw malformed(this.host, 'a malformed trailer field');
    }
  }
}
