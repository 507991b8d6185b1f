import { beforeAll, describe, expect, it } from '@jest/globals';
import type { JobView } from '../../lib/domain/job';
import { fixtureSha256 } from '../utils/file-server';
import { latest, recordUpdates, subscribe } from '../utils/job-client';
import { api, postJob } from '../utils/test-app';
import { waitFor } from '../utils/wait-for';
import { useWatchingApp } from '../utils/watching-app';

const SECRET = 'hunter2-s3cret';
const size = 512 * 1024;

const ctx = useWatchingApp();

let created: { status: number; body: any };
let ack: unknown;
let updates: JobView[];
let final: JobView;

beforeAll(async () => {
  // The fixture server ignores the credentials; the worker must still send the URL it was given.
  const withCredentials = ctx.files.url.replace('http://', `http://someone:${SECRET}@`);
  created = await postJob(ctx.app.server.url, `${withCredentials}/file/${size}?seed=credentials`);
  updates = recordUpdates(ctx.tab, created.body.id);
  ack = await subscribe(ctx.tab, created.body.id);
  final = await waitFor('the download to complete', () => (latest(updates)?.status === 'completed' ? latest(updates) : null), 20_000);
}, 60_000);

describe('when a URL with a user and password is submitted', () => {
  it('answers with the URL masked: ***@host', () => {
    expect(created.status).toBe(201);
    expect(created.body.url).toBe(`${ctx.files.url.replace('http://', 'http://***@')}/file/${size}?seed=credentials`);
  });

  it('never shows the password: POST answer, GET, snapshot or any event', async () => {
    const { body } = await api(ctx.app.server.url, `/api/jobs/${created.body.id}`);
    for (const shown of [created.body, body, ack, ...updates]) expect(JSON.stringify(shown)).not.toContain(SECRET);
    expect(JSON.stringify(updates)).not.toContain('someone');
  });

  it('never logs it', () => {
    for (const process of [ctx.app.server, ...ctx.app.workers]) expect(process.output()).not.toContain(SECRET);
  });

  it('still downloads the file', () => {
    expect(final.sha256).toBe(fixtureSha256(size, 'credentials'));
  });
});
