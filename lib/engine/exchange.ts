/**
 * One guarded GET over HTTP/1.1: a fresh connection (never a pooled one, whose peer was checked
 * under some other policy), the address checks, a connect timeout, an idle timeout and the abort
 * signal. The engine speaks HTTP itself rather than through `node:http`, whose client hands each
 * 64 KiB read over in a new buffer and copies it once more while parsing: measured here, that is
 * most of the CPU a large download took and a garbage collection every few dozen MB. Here the
 * socket reads the body straight into the caller's buffers (see BodySink), and the head alone is
 * parsed in JavaScript.
 */
import type { IncomingHttpHeaders } from 'node:http';
import net, { isIP, type LookupFunction } from 'node:net';
import tls from 'node:tls';
import { assertHostAllowed, assertSocketAllowed, type AddressPolicy } from './address-guard';
import { framingOf, type BodyFraming } from './body-framing';
import { DownloadError, toDownloadError } from './errors';
import { headEnd, malformed, parseHead, requestHead } from './http-head';

export const CONNECT_TIMEOUT_MS = 10_000;
/** Longest wait for the next byte, headers included. */
export const IDLE_TIMEOUT_MS = 30_000;
/** The head must fit in this, as in Node's own client. */
const HEAD_LIMIT = 16 * 1024;
/**
 * Most interim (1xx) answers before the real one. Each is small and resets the idle timer, so
 * without a bound a server could hold a download open forever without ever answering.
 */
const MAX_INTERIM = 10;

export interface ExchangeSettings {
  policy: AddressPolicy;
  /** A guarded lookup (see createGuardedLookup). */
  lookup: LookupFunction;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  signal?: AbortSignal;
}

/** Where a body is read to. */
export interface BodySink {
  /** Where the socket may read next (at least 64 KiB), or null while there is no room. */
  room(): Buffer | null;
  /** `length` body bytes now fill the start of the last `room()`. May throw, which ends the body with that error. */
  take(length: number): void;
  /** Calls `callback` once there is room again. */
  whenRoom(callback: () => void): void;
}

export interface Exchange {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** Whether the whole body has arrived, by its length, its last chunk or (when it had neither) the end of the connection. */
  readonly complete: boolean;
  /**
   * Reads the body into `sink`; resolves once it is complete. Rejects with what cut it: the
   * socket's error, `failure`, or an ECONNRESET error when the connection ended too soon.
   */
  readBody(sink: BodySink): Promise<void>;
  /** Ends the body with `reason` (e.g. too slow): `readBody` rejects with it. */
  fail(reason: Error): void;
  /** Why this side cut the connection (timeout, abort, forbidden peer), if it did. */
  readonly failure: DownloadError | undefined;
  /** Clears timers and listeners and closes the connection. Idempotent. */
  close(): void;
}

export function abortedError(): DownloadError {
  return new DownloadError('aborted', 'The download was stopped.');
}

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

/** Why `signal` stopped the download: its own DownloadError (e.g. total_timeout), else `aborted`. */
export function stopReason(signal: AbortSignal): DownloadError {
  return signal.reason instanceof DownloadError ? signal.reason : abortedError();
}

/** What Node's client says when a connection ends too soon; it maps to connection_reset. */
function cutShort(what: string): Error {
  return Object.assign(new Error(what), { code: 'ECONNRESET' });
}

/** Sends a GET to `url` with `headers` added, and resolves once the response head has arrived. */
export async function openExchange(url: URL, settings: ExchangeSettings, headers: Record<string, string> = {}): Promise<Exchange> {
  const { policy, signal } = settings;
  assertHostAllowed(url, policy);
  if (signal?.aborted) throw stopReason(signal);
  const request = requestHead(url, headers);
  const host = url.host;
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const secure = url.protocol === 'https:';
  const port = Number(url.port) || (secure ? 443 : 80);

  return new Promise<Exchange>((resolve, reject) => {
    // Holds the head, then bytes read while the sink had no room (or was not given yet).
    const scratch = Buffer.allocUnsafe(HEAD_LIMIT);
    let headBytes = 0;
    let interim = 0;
    let phase: 'head' | 'body' | 'done' = 'head';
    let head: { status: number; headers: IncomingHttpHeaders; framing: BodyFraming } | undefined;
    /** Body bytes that could not go to the sink when they came, oldest first; rare and small. */
    const held: Buffer[] = [];
    let sink: BodySink | undefined;
    let connectionEnded = false;
    let complete = false;
    let failure: DownloadError | undefined;
    let bodyError: Error | undefined;
    let settleBody: { resolve(): void; reject(err: Error): void } | undefined;

    const onread = { buffer: () => target(), callback: (length: number, buffer: Uint8Array) => onBytes(length, buffer) };
    const socket = secure
      ? tls.connect({ host: hostname, port, servername: isIP(hostname) ? undefined : hostname, ALPNProtocols: ['http/1.1'], lookup: settings.lookup, onread } as tls.ConnectionOptions)
      : net.connect({ host: hostname, port, lookup: settings.lookup, onread });

    const connectTimer = setTimeout(
      () => cut(new DownloadError('connect_timeout', `No connection to ${host} within ${seconds(settings.connectTimeoutMs)}.`)),
      settings.connectTimeoutMs,
    );
    const onAbort = () => cut(stopReason(signal!));
    signal?.addEventListener('abort', onAbort, { once: true });

    function close(): void {
      clearTimeout(connectTimer);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
    }

    function cut(reason: DownloadError): void {
      failure ??= reason;
      end(reason);
    }

    /** Ends the exchange: with `err`, whatever phase it is in, or as a complete body. */
    function end(err?: Error): void {
      if (phase === 'done') return;
      const was = phase;
      phase = 'done';
      close();
      if (!err) {
        complete = true;
        return settleBody?.resolve();
      }
      if (was === 'head') return reject(failure ?? toDownloadError(err, host));
      bodyError = failure ?? err;
      settleBody?.reject(bodyError);
    }

    /** The buffer the socket reads into next: the sink's room, unless bytes wait to go there first. */
    function target(): Uint8Array {
      if (phase === 'head') return scratch.subarray(headBytes);
      return (phase === 'body' && held.length === 0 && sink?.room()) || scratch;
    }

    function onBytes(length: number, buffer: Uint8Array): boolean {
      try {
        if (phase === 'head') {
          headBytes += length;
          return readHead();
        }
        if (phase !== 'body') return false;
        const bytes = Buffer.from(buffer.buffer, buffer.byteOffset, length);
        const kept = head!.framing.decode(bytes, length);
        // Scratch is read into again: what landed there waits for room in a copy of its own.
        if (buffer === scratch) held.push(Buffer.from(bytes.subarray(0, kept)));
        else if (kept > 0) sink!.take(kept);
        return proceed();
      } catch (err) {
        end(err as Error);
        return false;
      }
    }

    /** Parses the head once it is whole; false pauses the socket until the body is asked for. */
    function readHead(): boolean {
      for (;;) {
        const at = headEnd(scratch.subarray(0, headBytes));
        if (at < 0) {
          if (headBytes === scratch.length) throw malformed(host, `headers larger than ${HEAD_LIMIT / 1024} KiB`);
          return true;
        }
        const { status, headers } = parseHead(scratch.subarray(0, at), host);
        if (status === 101) throw malformed(host, 'an upgrade that was not asked for');
        scratch.copyWithin(0, at, headBytes);
        headBytes -= at;
        if (status < 200) {
          // An interim answer (100 Continue, 103 Early Hints): the real one follows, maybe in the same read.
          if (++interim > MAX_INTERIM) throw malformed(host, `more than ${MAX_INTERIM} interim answers`);
          continue;
        }
        head = { status, headers, framing: framingOf(status, headers, host) };
        const kept = head.framing.decode(scratch, headBytes); // body bytes that came with the head
        if (kept > 0) held.push(Buffer.from(scratch.subarray(0, kept)));
        phase = 'body';
        resolve(exchange);
        return false;
      }
    }

    /** Moves held bytes to the sink while it has room; true once none are left. */
    function drainHeld(): boolean {
      while (held.length > 0) {
        const room = sink!.room();
        if (!room) return false;
        const bytes = held.shift()!; // at most the scratch size, and a room is at least that
        bytes.copy(room);
        sink!.take(bytes.length);
      }
      return true;
    }

    /** After bytes were handed on: ends a whole body, or says whether the socket may read on. */
    function proceed(): boolean {
      if (!sink) return false; // readBody carries on
      if (drainHeld()) {
        if (head!.framing.done || connectionEnded) {
          end();
          return false;
        }
        if (sink.room()) return true;
      }
      sink.whenRoom(() => {
        try {
          if (phase === 'body' && proceed()) socket.resume();
        } catch (err) {
          end(err as Error);
        }
      });
      return false;
    }

    socket.once('connect', () => {
      clearTimeout(connectTimer);
      try {
        assertSocketAllowed(socket, policy, url.hostname);
      } catch (err) {
        return cut(err as DownloadError);
      }
      socket.setTimeout(settings.idleTimeoutMs, () =>
        cut(new DownloadError('idle_timeout', `${host} sent nothing for ${seconds(settings.idleTimeoutMs)}.`)),
      );
      socket.write(request, 'latin1');
    });
    socket.on('error', (err) => end(err));
    socket.on('end', () => {
      if (phase === 'head') return end(cutShort('socket hang up'));
      if (phase !== 'body' || head!.framing.done) return; // whole already: its last bytes are on their way
      if (!head!.framing.endsWithConnection) return end(cutShort('The connection closed before the whole body arrived.'));
      connectionEnded = true;
      try {
        proceed();
      } catch (err) {
        end(err as Error);
      }
    });

    const exchange: Exchange = {
      get status() {
        return head!.status;
      },
      get headers() {
        return head!.headers;
      },
      get complete() {
        return complete;
      },
      get failure() {
        return failure;
      },
      readBody(into) {
        if (bodyError) return Promise.reject(bodyError);
        if (sink || phase !== 'body') return Promise.reject(new Error('The body of an exchange is read once.'));
        sink = into;
        return new Promise<void>((resolveBody, rejectBody) => {
          settleBody = { resolve: resolveBody, reject: rejectBody };
          try {
            if (proceed()) socket.resume();
          } catch (err) {
            end(err as Error);
          }
        });
      },
      fail: (reason) => end(reason),
      close,
    };
  });
}
