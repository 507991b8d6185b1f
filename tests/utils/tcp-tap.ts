/**
 * A TCP relay in front of a loopback server (the fixture file server) that records each
 * connection from the server's side: the bytes it passed on to the client and when the
 * connection closed. It is how a test sees that a download really stopped, rather than only
 * that it was reported stopped.
 */
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

export interface TappedConnection {
  /** When the client connected (ms since the epoch). */
  readonly openedAt: number;
  /** Bytes passed from the server to the client so far. */
  readonly bytesToClient: number;
  /** When the connection closed, from either end (ms since the epoch); null while open. */
  readonly closedAt: number | null;
}

export interface TcpTap {
  /** `http://127.0.0.1:PORT`, no trailing slash: the target's URLs, relayed. */
  readonly url: string;
  /** Every connection so far, oldest first. */
  readonly connections: ReadonlyArray<TappedConnection>;
  /** Stops listening and closes open connections. Idempotent. */
  close(): Promise<void>;
}

/** Relays every connection made to it to `127.0.0.1:<targetPort>`. */
export async function startTcpTap(targetPort: number): Promise<TcpTap> {
  const connections: TappedConnection[] = [];
  const open = new Set<Socket>();
  const server = createServer((client) => {
    open.add(client);
    connections.push(relay(client, targetPort));
    client.once('close', () => open.delete(client));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject).listen(0, '127.0.0.1', () => resolve());
  });
  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of open) socket.destroy();
      });
      return closing;
    },
  };
}

function relay(client: Socket, targetPort: number): TappedConnection {
  const openedAt = Date.now();
  let closedAt: number | null = null;
  const upstream = connect(targetPort, '127.0.0.1');
  // Either end closing, or failing, ends both: the relay never holds a connection open itself.
  const end = () => {
    closedAt ??= Date.now();
    client.destroy();
    upstream.destroy();
  };
  client.on('error', end).once('close', end);
  upstream.on('error', end).once('close', end);
  client.pipe(upstream);
  upstream.pipe(client);
  return {
    openedAt,
    // Counted where the bytes leave the relay: once the client has gone, nothing more is.
    get bytesToClient() {
      return client.bytesWritten;
    },
    get closedAt() {
      return closedAt;
    },
  };
}
