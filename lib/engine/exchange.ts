/**
 * One guarded GET: a fresh connection (never a pooled one, whose peer was checked under some
 * other policy), the address checks, a connect timeout, an idle timeout and the abort signal.
 * The response body is left for the caller to read.
 */
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { assertHostAllowed, assertSocketAllowed, type AddressPolicy } from './address-guard';
import { DownloadError, toDownloadError } from './errors';

export const USER_AGENT = 'live-downloader/0.1';
export const CONNECT_TIMEOUT_MS = 10_000;
/** Longest wait for the next byte, headers included. */
export const IDLE_TIMEOUT_MS = 30_000;

export interface ExchangeSettings {
  policy: AddressPolicy;
  /** A guarded lookup (see createGuardedLookup). */
  lookup: LookupFunction;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  signal?: AbortSignal;
}

export interface Exchange {
  response: IncomingMessage;
  /** Why this side cut the connection (timeout, abort, forbidden peer), if it did. */
  readonly failure: DownloadError | undefined;
  /** Clears timers and listeners and closes the connection. Idempotent. */
  close(): void;
}

export function abortedError(): DownloadError {
  return new DownloadError('aborted', 'The download was stopped.');
}

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

function decoded(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part; // a stray `%` is sent as typed
  }
}

/** Why `signal` stopped the download: its own DownloadError (e.g. total_timeout), else `aborted`. */
export function stopReason(signal: AbortSignal): DownloadError {
  return signal.reason instanceof DownloadError ? signal.reason : abortedError();
}

/** Sends a GET to `url` with `headers` added, and resolves once the response headers have arrived. */
export function openExchange(url: URL, settings: ExchangeSettings, headers: Record<string, string> = {}): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const { policy, signal } = settings;
    assertHostAllowed(url, policy);
    if (signal?.aborted) throw stopReason(signal);

    let failure: DownloadError | undefined;
    const request = (url.protocol === 'https:' ? https : http).request({
      protocol: url.protocol,
      hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port || undefined,
      path: `${url.pathname}${url.search}`,
      auth: url.username ? `${decoded(url.username)}:${decoded(url.password)}` : undefined,
      headers: { 'User-Agent': USER_AGENT, 'Accept-Encoding': 'identity', Accept: '*/*', ...headers },
      agent: false,
      lookup: settings.lookup,
    });
    const cut = (reason: DownloadError) => {
      failure ??= reason;
      request.destroy(reason);
    };
    const onAbort = () => cut(stopReason(signal!));
    const connectTimer = setTimeout(
      () => cut(new DownloadError('connect_timeout', `No connection to ${url.host} within ${seconds(settings.connectTimeoutMs)}.`)),
      settings.connectTimeoutMs,
    );
    const close = () => {
      clearTimeout(connectTimer);
      signal?.removeEventListener('abort', onAbort);
      request.destroy();
    };

    signal?.addEventListener('abort', onAbort, { once: true });
    request.setTimeout(settings.idleTimeoutMs, () =>
      cut(new DownloadError('idle_timeout', `${url.host} sent nothing for ${seconds(settings.idleTimeoutMs)}.`)),
    );
    request.on('socket', (socket) => {
      const onConnect = () => {
        clearTimeout(connectTimer);
        try {
          assertSocketAllowed(socket, policy, url.hostname);
        } catch (err) {
          cut(err as DownloadError);
        }
      };
      if (socket.connecting) socket.once('connect', onConnect);
      else onConnect();
    });
    request.on('response', (response) =>
      resolve({
        response,
        get failure() {
          return failure;
        },
        close,
      }),
    );
    // Also fires when the body breaks later; the promise has settled by then, the caller sees
    // the error on the response stream.
    request.on('error', (err) => {
      close();
      reject(failure ?? toDownloadError(err, url.host));
    });
    request.end();
  });
}
