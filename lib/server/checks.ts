/**
 * The checks of this node's request pipeline (see ./pipeline). Each is written once and holds
 * for pages, API routes and socket.io handshakes alike.
 */
import { AppError } from '../domain/errors';
import type { RequestCheck } from './pipeline';

/**
 * While the node shuts down it takes nothing new: a client that asks now (on a connection kept
 * alive, or a reconnecting socket) is told to try again, which behind a balancer means another
 * node.
 */
export function refuseWhileClosing(closing: () => boolean): RequestCheck {
  return () => {
    if (closing()) throw new AppError('unavailable', 'This server is shutting down. Try again in a moment.');
  };
}
