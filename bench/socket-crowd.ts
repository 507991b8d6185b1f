/**
 * Many socket.io clients in a process of their own (so their memory is not the server's): each
 * connects over WebSocket and subscribes to one job; prints `{"subscribed"}` once every
 * acknowledgement came, then idles until SIGTERM.
 */
import { io, type Socket } from 'socket.io-client';

const [url, count, jobId] = [process.argv[2], Number(process.argv[3]), process.argv[4]];
const sockets: Socket[] = [];
const BATCH = 200;

for (let start = 0; start < count; start += BATCH) {
  await Promise.all(
    Array.from({ length: Math.min(BATCH, count - start) }, async () => {
      const socket = io(url, { transports: ['websocket'], reconnection: false, forceNew: true });
      sockets.push(socket);
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('connect_error', reject);
      });
      await socket.timeout(30_000).emitWithAck('job:subscribe', jobId);
    }),
  );
}
console.log(JSON.stringify({ subscribed: sockets.length }));
process.on('SIGTERM', () => {
  for (const socket of sockets) socket.disconnect();
  process.exit(0);
});
