/**
 * How job events travel through Redis: socket.io's Redis emitter protocol, so the Redis
 * adapter of every server node hands each event straight to the sockets in the job's room, and
 * `follow()` (./redis) reads the very same message for other consumers. The key, the parser and
 * the channel are chosen here, once, for the emitter, the adapter and the feed.
 */
import msgpack from 'notepack.io';
import { z } from 'zod';

/** Encodes and decodes every message on the wire; the emitter's and adapter's default, made explicit. */
export const wireParser = msgpack;

/** The key the socket.io adapter and emitter share; derived from the app's Redis prefix. */
export function socketIoKey(redisPrefix: string): string {
  return `${redisPrefix}:socket.io`;
}

/** The channel an event for exactly one room goes out on: `<key>#<namespace>#<room>#`. */
export function roomChannel(redisPrefix: string, room: string): string {
  return `${socketIoKey(redisPrefix)}#/#${room}#`;
}

/** socket.io's packet type for an event with arguments. */
const EVENT_PACKET = 2;

const broadcastSchema = z.tuple([
  z.unknown(), // the sender's id
  z.object({ type: z.literal(EVENT_PACKET), data: z.tuple([z.string()], z.unknown()), nsp: z.string().optional() }),
  z.unknown(), // the broadcast's flags and rooms
]);

/** The event's name and arguments, or null for a message that is not an event broadcast. */
export function decodeRoomEvent(raw: Buffer): { name: string; args: unknown[] } | null {
  let message: unknown;
  try {
    message = wireParser.decode(raw);
  } catch {
    return null; // Not ours to read: the caller ignores it.
  }
  const parsed = broadcastSchema.safeParse(message);
  if (!parsed.success) return null;
  const [name, ...args] = parsed.data[1].data;
  return { name, args };
}
