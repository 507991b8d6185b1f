/**
 * How every API route handler is written: `route(async (context, request, params, caller) => …)`.
 * The handler gets the server context, its route's params and who is asking (see ./identity)
 * as arguments, and whatever it throws
 * becomes the JSON error answer (AppErrors as they are, anything else a logged 500).
 * Cross-cutting checks do not belong here: they run earlier, in the request pipeline, which
 * pages and socket.io connections go through too.
 */
import { errorResponse, toAppError } from './http';
import { serverContext, type ServerContext } from './context';
import type { Caller } from './identity';

type Handler<Params> = (context: ServerContext, request: Request, params: Params, caller: Caller) => Promise<Response>;

export function route<Params extends Record<string, string> = Record<string, never>>(handler: Handler<Params>) {
  return async (request: Request, { params }: { params: Promise<Params> }): Promise<Response> => {
    let context: ServerContext | undefined;
    try {
      context = serverContext();
      return await handler(context, request, await params, context.identity.identify(request.headers));
    } catch (error) {
      return errorResponse(toAppError(error, context?.logger, 'a route handler'));
    }
  };
}
