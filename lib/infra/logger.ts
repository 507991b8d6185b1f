import { pino, type Logger } from 'pino';
import { redactUrl } from '../util/redact-url';

export type { Logger };

/** One JSON logger per process; `name` says which process wrote the line. */
export function createLogger(name: string, level: string): Logger {
  return pino({
    name,
    level,
    // URLs may carry credentials: never log them as they came.
    redact: { paths: ['url', '*.url', 'job.url'], censor: redactUrl },
  });
}
