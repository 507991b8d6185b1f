import { pino, type Logger } from 'pino';

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

/** `https://user:secret@host/path` → `https://***@host/path`. */
export function redactUrl(value: unknown): unknown {
  if (typeof value !== 'string' || !URL.canParse(value)) return value;
  const url = new URL(value);
  if (!url.username && !url.password) return value;
  url.username = '***';
  url.password = '';
  return url.toString();
}
