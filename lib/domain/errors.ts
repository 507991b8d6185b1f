/**
 * Errors as values: every failure the app reports carries a stable code, a sentence for
 * people and, where it reaches HTTP, a status. Route handlers map them in one place.
 */
import type { JobError } from './job';

export type AppErrorCode =
  | 'invalid_json'
  | 'body_too_large'
  | 'invalid_request'
  | 'invalid_url'
  | 'blocked_destination'
  | 'not_found'
  | 'file_not_ready'
  | 'conflict'
  | 'unavailable'
  | 'internal_error';

const HTTP_STATUS: Record<AppErrorCode, number> = {
  invalid_json: 400,
  body_too_large: 413,
  invalid_request: 400,
  invalid_url: 400,
  blocked_destination: 422,
  not_found: 404,
  file_not_ready: 404,
  conflict: 409,
  unavailable: 503,
  internal_error: 500,
};

export class AppError extends Error {
  readonly code: AppErrorCode;
  readonly status: number;

  constructor(code: AppErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AppError';
    this.code = code;
    this.status = HTTP_STATUS[code];
  }

  toJSON(): JobError {
    return { code: this.code, message: this.message };
  }
}

export function notFound(what = 'job'): AppError {
  return new AppError('not_found', `No ${what} with that id.`);
}

/** The request does not fit the job's current state (e.g. cancelling a finished download). */
export function conflict(message: string): AppError {
  return new AppError('conflict', message);
}
