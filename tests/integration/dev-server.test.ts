import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestSettings, startServer, type ServerProcess, type TestSettings } from '../utils/app-processes';
import { deleteRedisPrefix, dropDatabase } from '../utils/cleanup';
import { connectClient } from '../utils/job-client';

/** Sends a WebSocket upgrade request and resolves with the status line's code. */
function upgradeStatus(baseUrl: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request(`${baseUrl}${path}`, {
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
      },
      timeout: 30_000,
    });
    request.on('upgrade', (response, socket) => {
      socket.destroy();
      resolve(response.statusCode ?? 0);
    });
    request.on('response', (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('timeout', () => request.destroy(new Error(`no answer to the upgrade of ${path}`)));
    request.on('error', reject);
    request.end();
  });
}

describe('when the server runs in dev mode (npm run dev)', () => {
  let settings: TestSettings;
  let server: ServerProcess;

  beforeAll(async () => {
    settings = await createTestSettings();
    server = await startServer(settings.env, 'development');
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await deleteRedisPrefix(String(settings.env.REDIS_URL), String(settings.env.REDIS_PREFIX));
    await dropDatabase(String(settings.env.MONGODB_URI));
    await settings.cleanup();
  }, 30_000);

  it("answers Next's hot-reload websocket upgrade", async () => {
    expect(await upgradeStatus(server.url, '/_next/hmr')).toBe(101);
  }, 60_000);

  it("answers socket.io's websocket upgrade", async () => {
    const socket = await connectClient(server.url);
    expect(socket.io.engine.transport.name).toBe('websocket');
    socket.disconnect();
  });
});
