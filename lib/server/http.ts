/**
 * The one place where errors become HTTP responses: `{"error":{"code","message"}}`.
 */
import { AppError } from '../domain/errors';
import { appContext } from './context';

export function errorResponse(error: AppError): Response {
  const headers: Record<string, string> = { 'Cache-Control': 'no-store' };
  // The rest of a refused body is still on its way: the connection cannot carry another request.
  if (error.code === 'body_too_large') headers.Connection = 'close';
  return Response.json({ error: error.toJSON() }, { status: error.status, headers });
}

/** Runs a route handler; AppErrors become their response, anything else a logged 500. */
export async function handleErrors(handler: () => Promise<Response>): Promise<Response> {
  try {
    return await handler();
  } catch (error) {
    if (error instanceof AppError) return errorResponse(error);
    logUnexpected(error);
    return errorResponse(new AppError('internal_error', 'Something went wrong on our side.'));
  }
}

function logUnexpected(error: unknown): void {
  try {
    appContext().logger.error({ err: error }, 'unexpected error in a route handler');
  } catch {
    // No context to log with: the server is starting or stopping; stderr still has it.
    console.error(error);
  }
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
    throw new AppError('invalid_json', 'The request body is not valid JSON.');
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
