/**
 * Redirects, followed by hand so that every hop goes through the guarded exchange: the address
 * checks run again for each new host, and the count stays within the limit.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { DownloadError, httpError } from './errors';
import { openExchange, type Exchange, type ExchangeSettings } from './exchange';

export const DEFAULT_MAX_REDIRECTS = 5;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** An absolute http(s) URL, or a DownloadError `invalid_url`. */
export function parseDownloadUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new DownloadError('invalid_url', 'That is not a valid URL.');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new DownloadError('invalid_url', `Only http and https URLs can be downloaded, not ${url.protocol}.`);
  }
  return url;
}

/**
 * Follows redirects from `start` and resolves with the first 2xx answer, its body unread.
 * `headers` (e.g. Range) go with every hop. Any other final status rejects with `http_error`.
 */
export async function openFinalResponse(
  start: URL,
  settings: ExchangeSettings,
  maxRedirects: number,
  headers: Record<string, string> = {},
): Promise<{ exchange: Exchange; finalUrl: URL }> {
  let url = start;
  for (let redirects = 0; ; redirects++) {
    const exchange = await openExchange(url, settings, headers);
    const { status } = exchange;
    if (status >= 200 && status < 300) return { exchange, finalUrl: url };
    exchange.close();
    if (!REDIRECT_STATUSES.has(status)) throw httpError(status);
    if (redirects >= maxRedirects) {
      throw new DownloadError('too_many_redirects', `The server redirected more than ${maxRedirects} times.`);
    }
    url = redirectTarget(exchange.headers, url);
  }
}

function redirectTarget(headers: IncomingHttpHeaders, current: URL): URL {
  if (!headers.location) throw new DownloadError('invalid_redirect', 'The server redirected without saying where to.');
  let target: URL;
  try {
    target = new URL(headers.location, current);
  } catch {
    throw new DownloadError('invalid_redirect', 'The server redirected to an address that is not a valid URL.');
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    throw new DownloadError('invalid_redirect', `The server redirected to an unsupported address (${target.protocol}).`);
  }
  return target;
}
