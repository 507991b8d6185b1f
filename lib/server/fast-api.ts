/**
 * The API requests this server answers itself, before Next: `POST /api/jobs`, the one that
 * clients send in bulk. Measured on this app, Next's way to a route handler (its router, a Web
 * Request and Response for each request) took about 3.5 ms of CPU per request, while Node's
 * own request and response take well under half a millisecond; at a hundred submits a second
 * that was a third of a core. It answers exactly as the Next route handler would (through the
 * same ./create-jobs), and like Next it runs after the request pipeline and the owner cookie.
 * Every other request goes on to Next.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AppError } from '../domain/errors';
import type { ServerContext } from './context';
import { createJobs, MAX_CREATE_JOBS_BODY_BYTES } from './create-jobs';
import { errorHeaders, toAppError } from './http';
import { CLIENT_ADDRESS_HEADER } from './pipeline';

type NodeHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** Wraps Next's request handler: the requests named above never reach it. */
export function serveFastApi(context: ServerContext, next: NodeHandler): NodeHandler {
  return (req, res) => {
    if (req.method !== 'POST' || pathOf(req) !== '/api/jobs') return next(req, res);
    void submit(context, req)
      .then(
        ({ body, location }) => sendJson(res, 201, body, location ? { Location: location } : {}),
        (error: unknown) => {
          const refused = toAppError(error, context.logger, 'POST /api/jobs');
          sendJson(res, refused.status, { error: refused.toJSON() }, errorHeaders(refused));
        },
      )
      .catch((err: unknown) => context.logger.error({ err }, 'could not answer POST /api/jobs'));
  };
}

async function submit(context: ServerContext, req: IncomingMessage) {
  const body = await readJsonBody(req, MAX_CREATE_JOBS_BODY_BYTES);
  const address = req.headers[CLIENT_ADDRESS_HEADER];
  return createJobs(context, body, context.identity.identify(req.headers), typeof address === 'string' ? address : 'unknown');
}

function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/**
 * The request's JSON body, read no further than `maxBytes`, as lib/server/http.ts reads a Web
 * Request's: a larger body is refused before it is all in memory (413 `body_too_large`; the
 * answer closes the connection, whose rest Node then drops), one that is not JSON is 400
 * `invalid_json`.
 */
function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const tooLarge = () => new AppError('body_too_large', `The request body is larger than ${maxBytes} bytes.`);
  if (Number(req.headers['content-length']) > maxBytes) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) return void chunks.push(chunk);
      req.off('data', onData);
      reject(tooLarge());
    };
    let ended = false;
    req.on('data', onData);
    req.once('end', () => {
      ended = true;
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        reject(new AppError('invalid_json'));
      }
    });
    // Cut off by the client: nobody is left to answer, and the promise must not wait forever.
    req.once('error', reject);
    req.once('close', () => ended || reject(new AppError('invalid_json', 'The request body ended early.')));
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string>): void {
  if (res.headersSent || res.destroyed) return;
  const json = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(json) });
  res.end(json);
}
