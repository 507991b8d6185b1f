/**
 * Counts what code sends to Redis and MongoDB while a trace runs, and how many round trips it
 * waits for: a round trip starts whenever something is sent while no answer is outstanding.
 * Commands sent together (a pipeline) or side by side (`Promise.all`) share one; commands
 * sent one after the other, each waiting for the last one's answer, count one each.
 *
 * Redis commands are seen where ioredis sends them (`sendCommand`, which pipelines go through
 * one command at a time); MongoDB commands through the driver's command monitoring (the
 * client must be created with `monitorCommands: true`).
 */
import type { Redis } from 'ioredis';
import type { CommandStartedEvent, MongoClient } from 'mongodb';

export interface Trace {
  /** Redis commands, in the order sent (`evalsha` for a script, whatever its name). */
  redis: string[];
  /** MongoDB commands, in the order sent. */
  mongo: CommandStartedEvent[];
  /** Round trips waited for: to Redis, to MongoDB, and in all (overlapping ones count once). */
  roundTrips: { redis: number; mongo: number; total: number };
}

export interface RoundTripCounter {
  /** Forgets what was seen and starts counting. */
  start(): void;
  /** Stops counting, once every answer is in; returns what was seen. */
  stop(): Trace;
  /** Puts the clients back as they were. */
  detach(): void;
}

export function countRoundTrips(redis: Redis, mongo: MongoClient): RoundTripCounter {
  let on = false;
  let trace: Trace = empty();
  const pending = { redis: 0, mongo: 0 };

  const sent = (kind: 'redis' | 'mongo') => {
    if (pending[kind] === 0) trace.roundTrips[kind] += 1;
    if (pending.redis + pending.mongo === 0) trace.roundTrips.total += 1;
    pending[kind] += 1;
  };
  const answered = (kind: 'redis' | 'mongo') => {
    pending[kind] -= 1;
  };

  const sendCommand = redis.sendCommand;
  redis.sendCommand = function (this: Redis, ...args: Parameters<Redis['sendCommand']>) {
    const [command] = args;
    if (on) {
      trace.redis.push(command.name);
      sent('redis');
      const done = () => answered('redis');
      command.promise.then(done, done);
    }
    return sendCommand.apply(this, args);
  } as Redis['sendCommand'];

  const started = (event: CommandStartedEvent) => {
    if (!on) return;
    trace.mongo.push(event);
    sent('mongo');
  };
  const ended = () => {
    if (on) answered('mongo');
  };
  mongo.on('commandStarted', started);
  mongo.on('commandSucceeded', ended);
  mongo.on('commandFailed', ended);

  return {
    start() {
      trace = empty();
      on = true;
    },
    stop() {
      if (pending.redis + pending.mongo !== 0) throw new Error(`still waiting for ${JSON.stringify(pending)} answers`);
      on = false;
      return trace;
    },
    detach() {
      on = false;
      redis.sendCommand = sendCommand;
      mongo.off('commandStarted', started);
      mongo.off('commandSucceeded', ended);
      mongo.off('commandFailed', ended);
    },
  };
}

function empty(): Trace {
  return { redis: [], mongo: [], roundTrips: { redis: 0, mongo: 0, total: 0 } };
}
