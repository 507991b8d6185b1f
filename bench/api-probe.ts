/**
 * A client of the app's API, and the steady probe that scenarios use to measure its answers
 * under load: requests sent on a fixed schedule, each timed to its whole answer.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { JobView } from '../lib/domain/job';

/** How long one request may take before it counts as failed. */
const REQUEST_TIMEOUT_MS = 30_000;
/** How often `probeWhile` asks whether to go on. */
const CHECK_EVERY_MS = 250;

export interface ApiAnswer {
  status: number;
  text: string;
}

/** One client of the API, keeping the owner cookie it is given as a browser would. */
export function apiClient(base: string) {
  let cookie = '';
  const call = async (method: 'GET' | 'POST', route: string, body?: unknown): Promise<ApiAnswer> => {
    const headers: Record<string, string> = body === undefined ? {} : { 'Content-Type': 'application/json' };
    if (cookie) headers.Cookie = cookie;
    const response = await fetch(`${base}${route}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    const text = await response.text();
    const owner = response.headers.getSetCookie().find((c) => c.startsWith('ld_owner='));
    if (owner) cookie = owner.split(';')[0];
    return { status: response.status, text };
  };
  return { get: (route: string) => call('GET', route), post: (route: string, body: unknown) => call('POST', route, body) };
}

export type ApiClient = ReturnType<typeof apiClient>;

export interface Probes {
  /** Milliseconds to a whole answer, of the requests that were answered as they should be. */
  post: number[];
  get: number[];
  failures: string[];
  /** The jobs the POSTs made. */
  jobIds: string[];
}

export interface ProbeOptions {
  /** Each kind of request is sent this often: a POST, then a GET half-way between. */
  everyMs: number;
  /** The URL the n-th POST submits. */
  url(n: number): string;
  /** The job the n-th GET asks for. */
  target(n: number): string;
  /** Asked every CHECK_EVERY_MS: the probe stops once it answers false, or at `deadline` (epoch ms). */
  going(): Promise<boolean>;
  deadline: number;
}

/**
 * `POST /api/jobs` and `GET /api/jobs/:id` on schedule: a slow answer delays none of the later
 * requests, so it cannot hide how slow the ones behind it would have been.
 */
export async function probeWhile(client: ApiClient, { everyMs, url, target, going, deadline }: ProbeOptions): Promise<Probes> {
  const probes: Probes = { post: [], get: [], failures: [], jobIds: [] };
  const timed = async (kind: 'post' | 'get', request: () => Promise<ApiAnswer>, expected: number) => {
    const began = performance.now();
    try {
      const { status, text } = await request();
      if (status !== expected) return void probes.failures.push(`${kind.toUpperCase()} ${status}: ${text.slice(0, 200)}`);
      probes[kind].push(performance.now() - began);
      if (kind === 'post') probes.jobIds.push((JSON.parse(text) as JobView).id);
    } catch (err) {
      probes.failures.push(`${kind.toUpperCase()}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  let on = true;
  const watching = (async () => {
    while (on) {
      await sleep(Math.min(CHECK_EVERY_MS, Math.max(0, deadline - Date.now())));
      on = Date.now() < deadline && (await going().catch(() => false));
    }
  })();
  const inFlight: Array<Promise<void>> = [];
  const start = performance.now();
  for (let tick = 0; on; tick++) {
    const wait = start + tick * (everyMs / 2) - performance.now();
    if (wait > 0) await sleep(wait);
    if (!on) break;
    const n = tick >> 1;
    inFlight.push(
      tick % 2 === 0
        ? timed('post', () => client.post('/api/jobs', { url: url(n) }), 201)
        : timed('get', () => client.get(`/api/jobs/${target(n)}`), 200),
    );
  }
  await watching;
  await Promise.all(inFlight);
  return probes;
}

