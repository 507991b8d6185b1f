/**
 * Every error code a job or the API can carry, in one table: the HTTP status the API answers
 * with (null for codes only a job's `error` carries), whether an automatic retry may get past
 * it, and the sentence people see when nothing more precise is known. The README's table of
 * codes is checked against this one by a test.
 */

export interface ErrorSpec {
  /** The API's answer for this code; null when it only ever ends a job. */
  status: number | null;
  /** Whether the worker tries the download again on its own (see the README). */
  retryable: boolean;
  message: string;
}

export const ERROR_CATALOGUE = {
  // The API's answers to bad requests.
  invalid_json: { status: 400, retryable: false, message: 'The request body is not valid JSON.' },
  invalid_request: { status: 400, retryable: false, message: 'The request body is not valid.' },
  body_too_large: { status: 413, retryable: false, message: 'The request body is too large.' },
  invalid_url: { status: 400, retryable: false, message: 'That is not a valid http:// or https:// URL.' },
  blocked_destination: {
    status: 422,
    retryable: false,
    message: 'That address is on a private or local network, which this server does not download from.',
  },
  forbidden_origin: {
    status: 403,
    retryable: false,
    message: "Requests that change jobs must come from this app's own pages (or an allowed origin), with a JSON body.",
  },
  forbidden_host: { status: 403, retryable: false, message: 'This server does not answer to that host name.' },
  unauthorized: { status: 401, retryable: false, message: 'Sign in first: this server asks for its access token.' },
  not_owner: {
    status: 403,
    retryable: false,
    message: 'Only the browser that started this download (or the access token) can change it. A shared link is for watching.',
  },
  rate_limited: { status: 429, retryable: false, message: 'Too many requests. Wait a moment and try again.' },
  too_many_jobs: {
    status: 429,
    retryable: false,
    message: 'You have too many downloads queued or running. Wait for some of them to finish.',
  },
  too_many_subscriptions: { status: 429, retryable: false, message: 'This connection already follows as many jobs as it may.' },
  not_found: { status: 404, retryable: false, message: 'No job with that id.' },
  file_not_ready: { status: 404, retryable: false, message: 'The file is not available: the download has not completed.' },
  conflict: { status: 409, retryable: false, message: "The request does not fit the job's current state." },
  unavailable: { status: 503, retryable: false, message: 'A service the app needs is unavailable. Try again in a moment.' },
  internal_error: { status: 500, retryable: false, message: 'Something went wrong on our side.' },
  // Why a download failed.
  http_error: { status: null, retryable: false, message: 'The server answered with an error.' },
  connection_refused: { status: null, retryable: false, message: 'The server refused the connection.' },
  dns_not_found: { status: null, retryable: false, message: 'The name of the server could not be found.' },
  connection_reset: { status: null, retryable: true, message: 'The connection to the server was cut.' },
  connect_timeout: { status: null, retryable: true, message: 'The server did not answer in time.' },
  idle_timeout: { status: null, retryable: true, message: 'The server stopped sending data.' },
  total_timeout: { status: null, retryable: true, message: 'The download took longer than allowed.' },
  too_many_redirects: { status: null, retryable: false, message: 'The server redirected too many times.' },
  invalid_redirect: { status: null, retryable: false, message: 'The server redirected to an address that cannot be followed.' },
  size_mismatch: { status: null, retryable: true, message: 'The server sent a different number of bytes than it announced.' },
  too_slow: { status: null, retryable: true, message: 'The server sent data more slowly than the minimum speed.' },
  too_large: { status: null, retryable: false, message: 'The file is larger than the limit.' },
  disk_full: { status: null, retryable: false, message: 'There is not enough free disk space for the file.' },
  write_failed: { status: null, retryable: false, message: 'The file could not be written to disk.' },
  network_error: { status: null, retryable: true, message: 'The download failed because of a network error.' },
  interrupted: {
    status: null,
    retryable: false,
    message: 'The download was interrupted too many times: its workers stopped while running it.',
  },
} as const satisfies Record<string, ErrorSpec>;

type Catalogue = typeof ERROR_CATALOGUE;

/** Every code a job's `error` or an API error answer may carry. */
export type ErrorCode = keyof Catalogue;

/** The codes the API answers with, each with its own HTTP status. */
export type ApiErrorCode = { [K in ErrorCode]: Catalogue[K]['status'] extends number ? K : never }[ErrorCode];

export const ERROR_CODES = Object.keys(ERROR_CATALOGUE) as ErrorCode[];

/** A failure, as a value: a stable machine-readable code and a sentence for people. */
export interface JobError {
  code: ErrorCode;
  message: string;
}

/** A job's error with the catalogue's sentence, or a more precise one. */
export function jobError(code: ErrorCode, message: string = ERROR_CATALOGUE[code].message): JobError {
  return { code, message };
}

const APP_ERROR = Symbol.for('live-downloader.app-error');

/**
 * An error the API answers with: a catalogued code, its HTTP status, and a sentence for people
 * (the catalogue's unless a more precise one is given). The request pipeline turns it into
 * `{"error": {"code", "message"}}`; socket.io acknowledgements carry the same `toJSON()`.
 */
export class AppError extends Error {
  /**
   * Next bundles route handlers apart from `server.ts`, so this class exists twice in a server
   * process, and the context that `server.ts` builds throws the other copy. A brand shared
   * through the global symbol registry makes `instanceof` hold for both.
   */
  static [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[APP_ERROR] === true;
  }

  readonly code: ApiErrorCode;
  readonly status: number;
  /** Seconds after which trying again may succeed (sent as `Retry-After`). */
  readonly retryAfterS: number | undefined;

  constructor(
    code: ApiErrorCode,
    message: string = ERROR_CATALOGUE[code].message,
    options?: { cause?: unknown; retryAfterS?: number },
  ) {
    super(message, { cause: options?.cause });
    Object.defineProperty(this, APP_ERROR, { value: true });
    this.name = 'AppError';
    this.code = code;
    this.status = ERROR_CATALOGUE[code].status;
    this.retryAfterS = options?.retryAfterS === undefined ? undefined : Math.max(1, Math.ceil(options.retryAfterS));
  }

  toJSON(): JobError {
    return { code: this.code, message: this.message };
  }
}

export function notFound(): AppError {
  return new AppError('not_found');
}

/** The request does not fit the job's current state (e.g. cancelling a finished download). */
export function conflict(message: string): AppError {
  return new AppError('conflict', message);
}
