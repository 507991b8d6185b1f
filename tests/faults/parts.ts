/**
 * The parts a fault test breaks, each its own so that breaking it harms nobody else: a Redis
 * without persistence on a spare port (stopped and started again empty, as a restart of an
 * unpersisted Redis is), and a relay in front of the MongoDB-wire server that can be cut (open
 * connections dropped, new ones refused) and restored on the same address.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { findExecutable, freePort, spawnService, waitUntilReady, type Service } from '../../scripts/services/process';
import { pingRedis } from '../../scripts/services/redis';

export interface OwnRedis {
  readonly url: string;
  /** Stops it (SIGKILL: nothing is saved, and clients see the connection drop). */
  kill(): Promise<void>;
  /** Starts it again on the same port, empty. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function startOwnRedis(): Promise<OwnRedis> {
  const binary = findExecutable('redis-server', ['/usr/bin/redis-server']);
  if (!binary) throw new Error('The fault tests start a Redis of their own: redis-server is not installed.');
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let service: Service | undefined;
  const start = async () => {
    service = spawnService('redis-server (fault test)', binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { exitWithParent: 'SIGKILL' });
    await waitUntilReady(service, () => pingRedis(url, 500), 10_000);
  };
  await start();
  return {
    url,
    start,
    kill: async () => service?.stop({ signal: 'SIGKILL' }),
    stop: async () => service?.stop({ graceMs: 2_000 }),
  };
}

export interface StoreGate {
  /** The MongoDB URI through the gate, with `database`. */
  uri(database: string): string;
  /** Drops every open connection and refuses new ones. */
  cut(): Promise<void>;
  /** Accepts connections again, on the same port. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

/** A gate in front of the MongoDB-wire server at `target` (`mongodb://host:port/...`). */
export async function startStoreGate(target: string): Promise<StoreGate> {
  const targetPort = Number(new URL(target).port);
  const port = await freePort();
  const open = new Set<Socket>();
  let server: Server | undefined;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server = createServer((client) => {
        const upstream = connect(targetPort, '127.0.0.1');
        open.add(client).add(upstream);
        const end = () => {
          client.destroy();
          upstream.destroy();
          open.delete(client);
          open.delete(upstream);
        };
        client.on('error', end).once('close', end);
        upstream.on('error', end).once('close', end);
        client.pipe(upstream).pipe(client);
      });
      server.once('error', reject).listen(port, '127.0.0.1', () => resolve());
    });
  const cut = () =>
    new Promise<void>((resolve) => {
      if (!server) return resolve();
      server.close(() => resolve());
      server = undefined;
      for (const socket of open) socket.destroy();
      open.clear();
    });
  await listen();
  return {
    uri: (database) => `mongodb://127.0.0.1:${port}/${database}`,
    cut,
    restore: () => (server ? Promise.resolve() : listen()),
    close: cut,
  };
}

export interface Balancer {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * A TCP balancer in front of the server nodes, as a deployment has one: connections go to each
 * node in turn, and past a node that refuses them, so the tabs of a node that died reconnect
 * to the other.
 */
export async function startBalancer(nodeUrls: () => string[]): Promise<Balancer> {
  const open = new Set<Socket>();
  let turn = 0;
  const server = createServer((client) => {
    client.pause();
    open.add(client);
    client.once('close', () => open.delete(client));
    const ports = nodeUrls().map((url) => Number(new URL(url).port));
    const tryNode = (left: number) => {
      if (left === 0) return client.destroy();
      const upstream = connect(ports[turn++ % ports.length], '127.0.0.1');
      upstream.once('error', () => tryNode(left - 1));
      upstream.once('connect', () => {
        open.add(upstream);
        const end = () => {
          client.destroy();
          upstream.destroy();
          open.delete(upstream);
        };
        upstream.removeAllListeners('error');
        client.on('error', end).once('close', end);
        upstream.on('error', end).once('close', end);
        client.pipe(upstream).pipe(client);
        client.resume();
      });
    };
    tryNode(ports.length);
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of open) socket.destroy();
      }),
  };
}
