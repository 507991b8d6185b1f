/**
 * The browser's one socket.io connection, shared by every hook in the tab. Nothing happens at
 * import: the socket is made by the first `getSocket()` call, from an effect in the browser.
 */
import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents } from '../domain/events';

export type JobSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

let socket: JobSocket | undefined;

/**
 * The tab's socket to this origin (path `/socket.io/`), made on first use. It reconnects by
 * itself; whoever needs state after a reconnect listens to `connect` and subscribes again.
 */
export function getSocket(): JobSocket {
  if (typeof window === 'undefined') throw new Error('getSocket() is for the browser: call it from an effect.');
  socket ??= io({
    // WebSocket first: one long-lived connection, no sticky sessions needed behind a balancer;
    // long-polling only where WebSocket is blocked.
    transports: ['websocket', 'polling'],
    tryAllTransports: true,
  });
  retryWhenUnavailable(socket);
  followLivePause(socket);
  return socket;
}

/** Whether the server said its live updates pause (see `live:paused`), until it says they resume or the tab reconnects. */
let livePaused = false;

export function isLivePaused(): boolean {
  return livePaused;
}

function followLivePause(tab: JobSocket): void {
  tab.on('live:paused', () => {
    livePaused = true;
  });
  const resumed = () => {
    livePaused = false;
  };
  tab.on('live:resumed', resumed);
  tab.on('connect', resumed);
}

/** The waits before connecting again after the server said `unavailable`, the last one repeated. */
const UNAVAILABLE_RETRY_MS = [1_000, 2_000, 5_000, 10_000];

/**
 * socket.io reconnects by itself after a lost connection, but not after the server's request
 * pipeline refused the handshake. A refusal with `unavailable` (a node shutting down, say) or
 * `rate_limited` means "try again", so the tab does, a little later each time; `unauthorized`
 * opens the sign-in page; any other refusal stands.
 */
export function retryWhenUnavailable(tab: JobSocket): void {
  let refusals = 0;
  tab.on('connect', () => {
    refusals = 0;
  });
  tab.on('connect_error', (err) => {
    // The session ended (or the token changed): the sign-in page brings the person back here.
    if (err.message === 'unauthorized') return window.location.assign(`/signin?next=${encodeURIComponent(window.location.pathname)}`);
    if (tab.active || (err.message !== 'unavailable' && err.message !== 'rate_limited')) return;
    const wait = UNAVAILABLE_RETRY_MS[Math.min(refusals++, UNAVAILABLE_RETRY_MS.length - 1)];
    // Spread out, so the tabs of a node that went away do not all come back at once.
    setTimeout(() => tab.connect(), wait * (0.5 + Math.random()));
  });
}
