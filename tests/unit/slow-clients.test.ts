/**
 * The slow-client guard against a stand-in for socket.io's socket: its transport is busy
 * (`writable` false) while a write is under way and says `ready` when it is done; a volatile
 * broadcast that finds it busy is dropped, as socket.io does.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from '@jest/globals';
import type { JobView } from '../../lib/domain/job';
import { guardSlowClient } from '../../lib/server/slow-clients';

class FakeTransport extends EventEmitter {
  writable = true;
}

function fakeSocket() {
  const events = new EventEmitter();
  const outgoing: ((event: string, ...args: unknown[]) => void)[] = [];
  const written: string[] = []; // what went to the transport (or engine.io's queue), as `job@version`
  const conn = Object.assign(new EventEmitter(), {
    transport: new FakeTransport(),
    closed: [] as (boolean | undefined)[],
    close(discard?: boolean) {
      conn.closed.push(discard);
    },
  });
  const write = (event: string, arg: unknown) => {
    written.push(event === 'job:update' ? `${(arg as JobView).id}@${(arg as JobView).version}` : `${event} ${String(arg)}`);
    conn.transport.writable = false; // busy until `drain()`
  };
  const rooms = new Set(['job:a', 'job:b']);
  const socket = {
    id: 'socket-1',
    conn,
    rooms,
    onAnyOutgoing(listener: (event: string, ...args: unknown[]) => void) {
      outgoing.push(listener);
    },
    once: (event: string, listener: () => void) => events.once(event, listener),
    off: (event: string, listener: () => void) => events.off(event, listener),
    /** An own emit: never dropped (engine.io queues it while the transport is busy). */
    emit(event: string, arg: unknown) {
      for (const listener of outgoing) listener.call(socket, event, arg);
      write(event, arg);
      return true;
    },
  };
  return {
    socket,
    conn,
    written,
    /** A room broadcast: volatile for states, as workers send them. */
    broadcast(event: 'job:update' | 'job:deleted', arg: JobView | string) {
      for (const listener of outgoing) listener.call(socket, event, arg);
      if (event === 'job:update' && !conn.transport.writable) return; // socket.io drops it
      write(event, arg);
    },
    /** The write under way is done. */
    drain() {
      conn.transport.writable = true;
      conn.transport.emit('ready');
    },
    disconnect: () => events.emit('disconnect'),
    leave: (room: string) => rooms.delete(room),
  };
}

const silent = { info: () => undefined };
const state = (id: string, version: number, status: JobView['status'] = 'active') => ({ id, version, status, run: 1 }) as JobView;
const guarded = (slowClientMs = 60_000) => {
  const fake = fakeSocket();
  guardSlowClient(fake.socket as never, { slowClientMs, logger: silent });
  return fake;
};
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the slow-client guard', () => {
  it('changes nothing for a socket that keeps up', () => {
    const fake = guarded();
    for (let v = 1; v <= 3; v++) {
      fake.broadcast('job:update', state('a', v));
      fake.drain();
    }
    expect(fake.written).toEqual(['a@1', 'a@2', 'a@3']);
  });

  it('sends only the newest missed state of each job once the transport can write again', () => {
    const fake = guarded();
    fake.broadcast('job:update', state('a', 1)); // goes out; the transport is busy from here
    fake.broadcast('job:update', state('a', 2));
    fake.broadcast('job:update', state('b', 7));
    fake.broadcast('job:update', state('a', 4));
    fake.broadcast('job:update', state('a', 3)); // late and older: not the one to keep
    expect(fake.written).toEqual(['a@1']);
    fake.drain();
    expect(fake.written).toEqual(['a@1', 'a@4', 'b@7']);
    fake.drain();
    fake.drain();
    expect(fake.written).toHaveLength(3); // sent once
  });

  it('forgets a missed state that a newer one, sent since, replaces', () => {
    const fake = guarded();
    fake.broadcast('job:update', state('a', 1));
    fake.broadcast('job:update', state('a', 2)); // missed
    fake.conn.transport.writable = true; // writable again without a `ready` (an upgrade, say)
    fake.broadcast('job:update', state('a', 3));
    fake.drain();
    expect(fake.written).toEqual(['a@1', 'a@3']);
  });

  it('keeps a finished state over later progress of the same run', () => {
    const fake = guarded();
    fake.broadcast('job:update', state('a', 1));
    fake.broadcast('job:update', state('a', 5, 'cancelled'));
    fake.broadcast('job:update', state('a', 6)); // a worker's last progress, after the cancel
    fake.drain();
    expect(fake.written).toEqual(['a@1', 'a@5']);
  });

  it('does not send a missed state of a job deleted since', () => {
    const fake = guarded();
    fake.broadcast('job:update', state('a', 1));
    fake.broadcast('job:update', state('b', 1));
    fake.broadcast('job:deleted', 'b');
    fake.drain();
    fake.drain();
    expect(fake.written).toEqual(['a@1', 'job:deleted b']);
  });

  it('does not send a missed state of a job the socket stopped following since', () => {
    const fake = guarded();
    fake.broadcast('job:update', state('a', 1));
    fake.broadcast('job:update', state('a', 2));
    fake.broadcast('job:update', state('b', 1));
    fake.leave('job:a');
    fake.drain();
    expect(fake.written).toEqual(['a@1', 'b@1']);
  });

  it('waits for engine.io to write its own queue before sending what was missed', () => {
    const fake = guarded();
    fake.broadcast('job:update', state('a', 1));
    fake.broadcast('job:update', state('a', 2)); // missed
    // engine.io writes its queue on `ready` before the guard hears it: still busy then.
    fake.conn.transport.prependOnceListener('ready', () => {
      fake.conn.transport.writable = false;
    });
    fake.drain();
    expect(fake.written).toEqual(['a@1']);
    fake.drain();
    expect(fake.written).toEqual(['a@1', 'a@2']);
  });

  it('follows the connection to its new transport when it upgrades', () => {
    const fake = guarded();
    fake.broadcast('job:update', state('a', 1));
    fake.broadcast('job:update', state('a', 2)); // missed on the old transport
    const upgraded = new FakeTransport();
    fake.conn.transport = upgraded;
    fake.conn.emit('upgrade', upgraded);
    expect(fake.written).toEqual(['a@1', 'a@2']); // sent at once: the new one can write
    fake.broadcast('job:update', state('a', 3)); // missed: a@2 is being written
    fake.drain();
    expect(fake.written).toEqual(['a@1', 'a@2', 'a@3']);
  });

  it('closes a socket that stays behind for slowClientMs, discarding what it holds', async () => {
    const fake = guarded(30);
    fake.broadcast('job:update', state('a', 1));
    fake.broadcast('job:update', state('a', 2)); // missed: behind from here
    await pause(120);
    expect(fake.conn.closed).toEqual([true]);
  });

  it('does not close a socket that caught up in time, nor one that is gone', async () => {
    const caughtUp = guarded(60);
    caughtUp.broadcast('job:update', state('a', 1));
    caughtUp.broadcast('job:update', state('a', 2));
    caughtUp.drain();
    caughtUp.drain();
    const gone = guarded(60);
    gone.broadcast('job:update', state('a', 1));
    gone.broadcast('job:update', state('a', 2));
    gone.disconnect();
    await pause(150);
    expect(caughtUp.conn.closed).toEqual([]);
    expect(gone.conn.closed).toEqual([]);
  });
});
