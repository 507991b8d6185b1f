/**
 * The one place where errors become HTTP answers: `{"error": {"code", "message"}}` with the
 * catalogue's status. Route handlers (./route) and the request pipeline (./pipeline) both
 * answer through here.
 */
import { AppError } from '../domain/errors';
import type { Logger } from '../infra/logger';
import { outageMessage, outageOf } from '../infra/outage';

/** Seconds a client is told to wait while a part is out of reach: Redis restarts in about that. */
const OUTAGE_RETRY_AFTER_S = 2;

/**
 * The AppError to answer with: the error itself, a 503 naming the part out of reach (Redis,
 * the store), or a logged 500 for anything unexpected.
 */
export function toAppError(error: unknown, logger: Pick<Logger, 'error' | 'warn'> | undefined, where: string): AppError {
  if (error instanceof AppError) return error;
  const part = outageOf(error);
  if (part) {
    logger?.warn({ part, reason: error instanceof Error ? error.message : String(error) }, `${where}: a part is out of reach`);
    return new AppError('unavailable', outageMessage(part), { cause: error, retryAfterS: OUTAGE_RETRY_AFTER_S });
  }
  if (logger) logger.error({ err: error }, `unexpected error in ${where}`);
  // No logger: the server is starting or stopping; stderr still has it.
  else console.error(error);
  return new AppError('internal_error');
}

export function errorHeaders(error: AppError): Record<string, string> {
  const headers: Record<string, string> = { 'Cache-Control': 'no-store' };
  // The rest of a refused body is still on its way: the connection cannot carry another request.
  if (error.code === 'body_too_large') headers.Connection = 'close';
  if (error.retryAfterS !== undefined) headers['Retry-After'] = String(error.retryAfterS);
  return headers;
}

export function errorResponse(error: AppError): Response {
  return Response.json({ error: error.toJSON() }, { status: error.status, headers: errorHeaders(error) });
}

/**
 * The request's JSON body, read no further than `maxBytes`: a larger body is refused before
 * it is all in memory (413 `body_too_large`), one that is not JSON is 400 `invalid_json`.
 */
export async function readJsonBody(request: Request, maxBytes: number): Promise<unknown> {
  const text = await readBoundedText(request, maxBytes);
  try {
    return JSON.parse(text);
  } catch {
    throw new AppError('invalid_json');
  }
}

async function readBoundedText(request: Request, maxBytes: number): Promise<string> {
  const tooLarge = () => new AppError('body_too_large', `The request body is larger than ${maxBytes} bytes.`);
  if (Number(request.headers.get('content-length')) > maxBytes) throw tooLarge();
  if (!request.body) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
