/**
 * Another site's page, opened in the same browser, tries to use the app: a download started
 * with a simple cross-site POST (no preflight, as a form would send it) and a socket to its
 * job events. Both are refused, and nothing is stored. The page is served from another
 * loopback port, which is another origin.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MongoClient } from 'mongodb';
import { useBrowsingApp } from '../utils/browser';

const ctx = useBrowsingApp();
let foreign: Server;
let foreignUrl: string;

beforeAll(async () => {
  foreign = createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>elsewhere</title>'));
  await new Promise<void>((resolve) => foreign.listen(0, '127.0.0.1', resolve));
  foreignUrl = `http://127.0.0.1:${(foreign.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => foreign?.close(resolve));
});

async function storedJobsFor(url: string): Promise<number> {
  const mongo = await new MongoClient(String(ctx.app.settings.env.MONGODB_URI)).connect();
  try {
    return await mongo.db().collection('jobs').countDocuments({ url });
  } finally {
    await mongo.close();
  }
}

describe("when another site's page tries to use the app", () => {
  it('cannot start a download with a simple cross-site POST', async () => {
    const page = await (await ctx.openProfile()).openTab('/');
    await page.goto(foreignUrl);
    const target = `${ctx.files.url}/file/10?seed=cross-site`;
    const sent = await page.evaluate(
      async ([app, url]) => {
        // no-cors: the browser sends it without asking, and hides the answer from the page.
        const response = await fetch(`${app}/api/jobs`, { method: 'POST', mode: 'no-cors', headers: { 'Content-Type': 'text/plain' }, body: JSON.stringify({ url }) });
        return response.type;
      },
      [ctx.app.server.url, target],
    );
    expect(sent).toBe('opaque'); // it did reach the server
    expect(await storedJobsFor(target)).toBe(0);
  });

  it('cannot open a socket to the app', async () => {
    const page = await (await ctx.openProfile()).openTab('/');
    await page.goto(foreignUrl);
    const wsUrl = `${ctx.app.server.url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`;
    // socket.io's protocol by hand: the transport opens (engine.io `0`), the page asks to
    // connect (`40`), and the server's answer is a connect or an error packet (`44`).
    const answer = await page.evaluate(
      (url) =>
        new Promise<string>((resolve) => {
          const ws = new WebSocket(url);
          ws.onmessage = ({ data }) => {
            const text = String(data);
            if (text.startsWith('0')) ws.send('40');
            else if (text.startsWith('4')) resolve(text);
          };
          ws.onclose = () => resolve('closed');
        }),
      wsUrl,
    );
    expect(answer.startsWith('44')).toBe(true);
    expect(JSON.parse(answer.slice(2))).toMatchObject({ message: 'forbidden_origin' });
  });
});
