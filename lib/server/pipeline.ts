/**
 * The request pipeline: the checks every request passes before anything answers it, written
 * once for HTTP (pages, API routes, files) and socket.io handshakes alike. A check looks at the
 * same facts whichever way the request came, and refuses by throwing an AppError: HTTP gets
 * the JSON error answer, a socket a `connect_error` whose message is the code.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'socket.io';
import type { AppError } from '../domain/errors';
import type { Logger } from '../infra/logger';
import { errorHeaders, toAppError } from './http';

/** What a check may look at. */
export interface RequestFacts {
  /** `socket` for a socket.io handshake. */
  kind: 'http' | 'socket';
  method: string;
  /** The path and query, as sent. */
  url: string;
  headers: IncomingHttpHeaders;
  /** The peer as this node sees it (a proxy's address behind one). */
  remoteAddress: string | undefined;
  /** A socket.io handshake's `auth.token`. */
  socketToken?: unknown;
}

/**
 * The header through which route handlers learn the client's address (Next does not give it
 * to them). The pipeline always sets it itself, so a client cannot choose it.
 */
export const CLIENT_ADDRESS_HEADER = 'x-client-address';

/** The client's address as the pipeline saw it, for route handlers. */
export function clientAddress(headers: Headers): string {
  return headers.get(CLIENT_ADDRESS_HEADER) ?? 'unknown';
}

/** One cross-cutting check: returns to admit, throws an AppError to refuse. */
export type RequestCheck = (request: RequestFacts) => void | Promise<void>;

type NodeHandler = (req: IncomingMessage, res: ServerResponse) => void;
type SocketMiddleware = (socket: Pick<Socket, 'request' | 'handshake'>, next: (err?: Error) => void) => void;

export interface RequestPipeline {
  /** Null to admit, or the AppError that refused the request. */
  admit(request: RequestFacts): Promise<AppError | null>;
  /** Wraps Node's request handler: a refused request gets its error and never reaches `handler`. */
  http(handler: NodeHandler): NodeHandler;
  /** socket.io middleware (`io.use`): a refused handshake never becomes a connection. */
  socket: SocketMiddleware;
}

export function createRequestPipeline(checks: RequestCheck[], logger: Logger): RequestPipeline {
  const admit = async (request: RequestFacts): Promise<AppError | null> => {
    try {
      for (const check of checks) await check(request);
      return null;
    } catch (error) {
      return toAppError(error, logger, 'the request pipeline');
    }
  };

  return {
    admit,
    http: (handler) => (req, res) => {
      req.headers[CLIENT_ADDRESS_HEADER] = req.socket.remoteAddress ?? 'unknown';
      void admit(httpFacts(req)).then((refused) => {
        if (!refused) return handler(req, res);
        if (refused.code === 'unauthorized' && isPageRequest(req)) {
          // A person opening a page is shown the sign-in page, which brings them back.
          res.writeHead(303, { Location: `/signin?next=${encodeURIComponent(req.url ?? '/')}`, 'Cache-Control': 'no-store' });
          return res.end();
        }
        res.writeHead(refused.status, { ...errorHeaders(refused), 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ error: refused.toJSON() }));
      });
    },
    socket: (socket, next) => {
      void admit(socketFacts(socket)).then((refused) => {
        if (!refused) return next();
        // The client sees `message` (the code) and `data` (the whole error) in connect_error.
        next(Object.assign(new Error(refused.code), { data: refused.toJSON() }));
      });
    },
  };
}

function httpFacts(req: IncomingMessage): RequestFacts {
  return { kind: 'http', method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, remoteAddress: req.socket.remoteAddress };
}

function socketFacts({ request, handshake }: Pick<Socket, 'request' | 'handshake'>): RequestFacts {
  const socketToken: unknown = (handshake.auth as Record<string, unknown> | undefined)?.token;
  return { kind: 'socket', method: request.method ?? 'GET', url: request.url ?? '/', headers: request.headers, remoteAddress: handshake.address, socketToken };
}

function isPageRequest(req: IncomingMessage): boolean {
  return req.method === 'GET' && !req.url?.startsWith('/api/') && (req.headers.accept ?? '').includes('text/html');
}
