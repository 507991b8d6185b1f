/**
 * `GET /api/jobs/:id/events`: one job's states as Server-Sent Events, the job-events port's
 * second consumer beside socket.io. The current state comes first, then every state that
 * outranks the last one sent (the socket contract's ordering, see `newerJob`); the stream ends
 * after a finished state, or after `deleted`. A comment line keeps idle proxies from closing it.
 */
import { isFinished, newerJobView, outranks } from '../domain/job-state';
import type { JobView } from '../domain/job';
import type { JobEvent } from '../job-events/port';
import type { ServerContext } from './context';
import type { Caller } from './identity';
import { viewJob } from './job-service';

export interface JobStreamOptions {
  /** Ends the stream (the client went away). */
  signal: AbortSignal;
  /** How often a comment line goes out while nothing else does. */
  heartbeatMs: number;
  /** Who asked: the first state is shown as they may see it. */
  caller: Caller;
}

type StreamDeps = Pick<ServerContext, 'feed' | 'jobs' | 'live'>;

const encoder = new TextEncoder();

const SSE_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  // `no-transform`: compressing would hold events back until a buffer fills.
  'Cache-Control': 'no-cache, no-transform',
  // Proxies such as nginx would otherwise buffer the stream too.
  'X-Accel-Buffering': 'no',
};

/**
 * The stream's response. Follows the job before reading it, so no state published in between
 * is missed; an unknown job rejects with not_found before anything is sent.
 */
export async function openJobStream(deps: StreamDeps, jobId: string, { signal, heartbeatMs, caller }: JobStreamOptions): Promise<Response> {
  const early: JobEvent[] = [];
  let deliver: (event: JobEvent) => void = (event) => {
    early.push(event);
  };
  const following = await deps.feed.follow(jobId, (event) => deliver(event));
  let current: JobView;
  try {
    current = await viewJob(deps, jobId, caller);
  } catch (err) {
    following.close();
    throw err;
  }

  let heartbeat: NodeJS.Timeout | undefined;
  let ended = false;
  const stop = () => {
    ended = true;
    clearInterval(heartbeat);
    following.close();
    signal.removeEventListener('abort', stop);
  };

  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const write = (text: string) => controller.enqueue(encoder.encode(text));
      const end = () => {
        if (ended) return;
        stop();
        controller.close();
      };
      const sendState = (job: JobView) => {
        write(`event: update\ndata: ${JSON.stringify(job)}\n\n`);
        current = job;
        if (isFinished(job.status)) end();
      };
      deliver = (event) => {
        if (ended) return;
        if (event.type === 'deleted') {
          write(`event: deleted\ndata: ${JSON.stringify({ id: jobId })}\n\n`);
          return end();
        }
        // Shown as this caller may see it, like the first state (room states carry no viewer).
        if (outranks(event.job, current)) sendState(newerJobView(current, event.job));
      };
      sendState(current);
      for (const event of early.splice(0)) deliver(event);
      if (ended) return;
      heartbeat = setInterval(() => write(': keep-alive\n\n'), heartbeatMs);
      signal.addEventListener('abort', stop);
    },
    cancel: stop,
  });
  return new Response(body, { headers: SSE_HEADERS });
}
