/**
 * The one place where errors become HTTP responses: `{"error":{"code","message"}}`.
 */
import { AppError } from './errors';
import { appContext } from './context';

export function errorResponse(error: AppError): Response {
  return Response.json({ error: error.toJSON() }, { status: error.status, headers: { 'Cache-Control': 'no-store' } });
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
