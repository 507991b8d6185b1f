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
  return socket;
}
