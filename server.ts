/**
 * The server process: Next (App Router) and socket.io on one HTTP server. The composition root
 * of a server node: builds its context, the request pipeline every request and socket passes,
 * and hands the context to the route handlers; closes everything on SIGINT/SIGTERM.
 */
import { createServer, type Server } from 'node:http';
import next from 'next';
import { exposureProblem, loadConfig } from './lib/infra/config';
import { createLogger } from './lib/infra/logger';
import { onShutdown } from './lib/infra/shutdown';
import { refuseWhileClosing, requireKnownHost, requireOwnOrigin, requireSignIn } from './lib/server/checks';
import { createServerContext, publishServerContext } from './lib/server/context';
import { serveFastApi } from './lib/server/fast-api';
import { createRequestPipeline } from './lib/server/pipeline';
import { attachRealtime } from './lib/server/realtime';
import { withSecurityHeaders } from './lib/server/security-headers';

async function main(): Promise<void> {
  const config = loadConfig();
  const exposed = exposureProblem(config);
  if (exposed) throw new Error(exposed);
  const logger = createLogger('server', config.logLevel);

  const app = next({ dev: config.dev, hostname: config.host, port: config.port });
  const handle = app.getRequestHandler();
  await app.prepare();

  const context = await createServerContext(config, logger);
  publishServerContext(context);

  let closing = false;
  const pipeline = createRequestPipeline(
    [refuseWhileClosing(() => closing), requireKnownHost(config), requireOwnOrigin(config), requireSignIn(context.identity, context.limits)],
    logger,
  );

  // socket.io takes every /socket.io/ request and upgrade before Next sees it; engine.io keeps
  // its default `destroyUpgrade`, which ends only upgrades that no one answered.
  const answer = serveFastApi(context, (req, res) => void handle(req, res));
  const httpServer = createServer(pipeline.http(context.identity.assignOwner(withSecurityHeaders(answer))));
  const realtime = attachRealtime(
    httpServer,
    {
      jobs: context.jobs,
      live: context.live,
      redis: context.redis,
      redisPrefix: config.redisPrefix,
      logger,
      identity: context.identity,
      limits: context.limits,
      quotas: config.quotas,
      slowClientMs: config.slowClientMs,
    },
    pipeline,
  );

  const port = await listen(httpServer, config.port, config.host);
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  // Next attaches its upgrade listener (the dev hot-reload socket) on its first request, so
  // the server announces itself only after that request: an earlier hot-reload upgrade
  // would find no listener and be ended.
  if (config.dev) await fetch(`${url}/api/health`).catch((err: unknown) => logger.warn({ err }, 'warm-up request failed'));
  logger.info({ url, dev: config.dev }, 'server listening');

  onShutdown(logger, async () => {
    closing = true;
    await realtime.close();
    await app.close();
    publishServerContext(undefined);
    await context.close();
  });
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
