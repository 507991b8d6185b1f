/**
 * A third-party client of `GET /api/jobs/:id/events`, as the README documents it: reads the
 * Server-Sent Events stream with fetch and records every event and comment line it is sent.
 */
import type { JobView } from '../../lib/domain/job';
import { clientCookies } from './test-app';

export interface SseEvent {
  event: string;
  data: unknown;
}

export interface SseStream {
  status: number;
  contentType: string | null;
  /** Events in arrival order. */
  events: SseEvent[];
  /** Comment lines (`: …`) received so far. */
  comments: number;
  /** Resolves once the server has ended the stream. */
  ended: Promise<void>;
  /** The body of an answer that is not a stream (an error). */
  json: unknown;
  /** Leaves, as a closed tab would. */
  close(): void;
}

/** A stream as this test file's one client (see `api()`), or with the headers given. */
export async function openEventStream(baseUrl: string, jobId: string, headers: Record<string, string> = { Cookie: clientCookies() }): Promise<SseStream> {
  const controller = new AbortController();
  const response = await fetch(`${baseUrl}/api/jobs/${jobId}/events`, { signal: controller.signal, headers: { Accept: 'text/event-stream', ...headers } });
  const contentType = response.headers.get('content-type');
  const stream: SseStream = {
    status: response.status,
    contentType,
    events: [],
    comments: 0,
    ended: Promise.resolve(),
    json: null,
    close: () => controller.abort(),
  };
  if (!contentType?.startsWith('text/event-stream')) {
    stream.json = await response.json();
    return stream;
  }
  stream.ended = read(response, stream).catch((err: unknown) => {
    if (!controller.signal.aborted) throw err;
  });
  return stream;
}

async function read(response: Response, stream: SseStream): Promise<void> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      parseBlock(block, stream);
    }
  }
}

function parseBlock(block: string, stream: SseStream): void {
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) stream.comments++;
    else if (line.startsWith('event: ')) event = line.slice(7);
    else if (line.startsWith('data: ')) data.push(line.slice(6));
  }
  if (data.length > 0) stream.events.push({ event, data: JSON.parse(data.join('\n')) });
}

/** The job states among the events, in arrival order. */
export function statesOf(stream: SseStream): JobView[] {
  return stream.events.filter((e) => e.event === 'update').map((e) => e.data as JobView);
}
