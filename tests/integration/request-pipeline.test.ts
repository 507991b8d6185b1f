/**
 * One check, written once in the request pipeline, holds for HTTP requests and socket.io
 * handshakes alike: a real HTTP server and socket.io server, real clients.
 */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pino from 'pino';
import { Server } from 'socket.io';
import { io as connect } from 'socket.io-client';
import { retryWhenUnavailable } from '../../lib/browser/socket';
import { AppError } from '../../lib/domain/errors';
import { refuseWhileClosing } from '../../lib/server/checks';
import { createRequestPipeline, type RequestFacts } from '../../lib/server/pipeline';

let httpServer: HttpServer;
let ioServer: Server;
let baseUrl: string;
let closing = false;
const seen: RequestFacts[] = [];

beforeAll(async () => {
  const pipeline = createRequestPipeline(
    [
      (request) => void seen.push(request),
      // A check of the kind the next issues add: refuse what carries a header.
      (request) => {
        if (request.headers['x-refuse'] === 'yes') throw new AppError('conflict', 'Refused by the test check.');
      },
      (request) => {
        if (request.headers['x-crash'] === 'yes') throw new Error('a check that fails unexpectedly');
      },
      refuseWhileClosing(() => closing),
    ],
    pino({ level: 'silent' }),
  );
  httpServer = createServer(pipeline.http((_req, res) => res.end('handled')));
  ioServer = new Server(httpServer);
  ioServer.use(pipeline.socket);
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await ioServer?.close();
});

function handshake(headers: Record<string, string> = {}): Promise<{ connected: true } | { connected: false; message: string; data: unknown }> {
  const socket = connect(baseUrl, { transports: ['websocket'], reconnection: false, forceNew: true, extraHeaders: headers });
  return new Promise((resolve) => {
    socket.once('connect', () => {
      socket.disconnect();
      resolve({ connected: true });
    });
    socket.once('connect_error', (err: Error & { data?: unknown }) => resolve({ connected: false, message: err.message, data: err.data }));
  });
}

describe('the request pipeline', () => {
  it('lets through what every check admits, HTTP and socket alike', async () => {
    const response = await fetch(`${baseUrl}/anything?x=1`);
    expect(await response.text()).toBe('handled');
    expect(await handshake()).toEqual({ connected: true });
    expect(seen.map(({ kind, method }) => ({ kind, method }))).toEqual(
      expect.arrayContaining([
        { kind: 'http', method: 'GET' },
        { kind: 'socket', method: 'GET' },
      ]),
    );
    expect(seen.find((s) => s.kind === 'http')).toMatchObject({ url: '/anything?x=1', remoteAddress: expect.stringMatching(/127\.0\.0\.1/) });
  });

  it('refuses an HTTP request with the JSON error, before the handler sees it', async () => {
    const response = await fetch(baseUrl, { headers: { 'x-refuse': 'yes' } });
    expect(response.status).toBe(409);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual({ error: { code: 'conflict', message: 'Refused by the test check.' } });
  });

  it('refuses a socket.io handshake with the same code as its connect_error message', async () => {
    expect(await handshake({ 'x-refuse': 'yes' })).toEqual({
      connected: false,
      message: 'conflict',
      data: { code: 'conflict', message: 'Refused by the test check.' },
    });
  });

  it('turns a check that throws anything else into internal_error, and stays up', async () => {
    const response = await fetch(baseUrl, { headers: { 'x-crash': 'yes' } });
    expect(response.status).toBe(500);
    expect(await response.json()).toMatchObject({ error: { code: 'internal_error' } });
    expect(await handshake({ 'x-crash': 'yes' })).toMatchObject({ connected: false, message: 'internal_error' });
    expect(await (await fetch(baseUrl)).text()).toBe('handled');
  });

  it('refuses everything new with unavailable while the node shuts down', async () => {
    closing = true;
    try {
      const response = await fetch(baseUrl);
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ error: { code: 'unavailable' } });
      expect(await handshake()).toMatchObject({ connected: false, message: 'unavailable' });
    } finally {
      closing = false;
    }
  });

  it("brings a tab's socket back by itself once a node that said unavailable takes it again", async () => {
    closing = true;
    const tab = connect(baseUrl, { transports: ['websocket'], forceNew: true });
    retryWhenUnavailable(tab);
    try {
      const refused = await new Promise<Error>((resolve) => tab.once('connect_error', resolve));
      expect(refused.message).toBe('unavailable');
      // socket.io itself gives up after a refusal by the server; the tab's own retry does not.
      expect(tab.active).toBe(false);
      closing = false;
      await new Promise<void>((resolve) => tab.once('connect', () => resolve()));
      expect(tab.connected).toBe(true);
    } finally {
      closing = false;
      tab.disconnect();
    }
  });
});
