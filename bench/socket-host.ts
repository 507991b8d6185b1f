/**
 * A socket.io server in a process of its own, for the idle-sockets scenario: `app` is this
 * app's realtime side as `server.ts` builds it (context, request pipeline, Redis adapter, the
 * subscribe handler and its guards), without Next; `bare` is socket.io with the same Redis
 * adapter and a subscribe that only joins the room. `GET /heap` answers the heap in use after
 * a full garbage collection. Prints `{"url", "jobId"}` when ready.
 */
import { createServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { loadConfig } from '../lib/infra/config';
import { createLogger } from '../lib/infra/logger';
import { requireKnownHost, requireOwnOrigin, requireSignIn } from '../lib/server/checks';
import { createServerContext } from '../lib/server/context';
import { newJob } from '../lib/server/job-service';
import { createRequestPipeline } from '../lib/server/pipeline';
import { attachRealtime } from '../lib/server/realtime';

const mode = process.argv[2];
const config = loadConfig();
const httpServer = createServer((req, res) => {
  if (req.url !== '/heap') return void res.writeHead(404).end();
  global.gc?.();
  res.end(String(process.memoryUsage().heapUsed));
});

let jobId = 'bare-job';
if (mode === 'app') {
  const logger = createLogger('bench-host', 'warn');
  const context = await createServerContext(config, logger);
  const job = newJob('http://127.0.0.1:9/bench.bin');
  await context.jobs.insert(job, job.url);
  jobId = job.id;
  const pipeline = createRequestPipeline([requireKnownHost(config), requireOwnOrigin(config), requireSignIn(context.identity, context.limits)], logger);
  attachRealtime(
    httpServer,
    { ...context, redisPrefix: config.redisPrefix, quotas: config.quotas, slowClientMs: config.slowClientMs },
    pipeline,
  );
} else {
  const pub = new Redis(config.redisUrl);
  const io = new Server(httpServer, { serveClient: false, adapter: createAdapter(pub, pub.duplicate(), { key: `${config.redisPrefix}#bare` }) });
  io.on('connection', (socket) => {
    socket.on('job:subscribe', async (id: string, ack: (result: unknown) => void) => {
      await socket.join(`job:${id}`);
      ack({ ok: true });
    });
  });
}

httpServer.listen(0, '127.0.0.1', () => {
  const address = httpServer.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  console.log(JSON.stringify({ url: `http://127.0.0.1:${port}`, jobId }));
});
process.on('SIGTERM', () => process.exit(0));
