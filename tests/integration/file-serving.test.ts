import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { JobView } from '../../lib/domain/job';
import { fixtureBytes, startFileServer, type FileServer } from '../utils/file-server';
import { api, postJob, startTestApp, type TestApp } from '../utils/test-app';
import { waitFor } from '../utils/wait-for';

let app: TestApp;
let files: FileServer;
let job: JobView;
const size = 256 * 1024;
const source = fixtureBytes(size, 'served');

beforeAll(async () => {
  files = await startFileServer();
  app = await startTestApp();
  const created = await postJob(app.server.url, `${files.url}/file/${size}?seed=served&name=${encodeURIComponent('<b>report</b>.html')}`);
  job = await waitFor('the download to complete', async () => {
    const { body } = await api(app.server.url, `/api/jobs/${created.body.id}`);
    return body.status === 'completed' ? (body as JobView) : null;
  }, 20_000);
}, 60_000);

afterAll(async () => {
  await app?.stop();
  await files?.close();
}, 30_000);

const fileUrl = () => `${app.server.url}/api/jobs/${job.id}/file`;

/** Every answer that carries the file (or its headers) must keep the browser from rendering it. */
function expectAttachmentOnly(response: Response): void {
  expect(response.headers.get('content-disposition')).toMatch(/^attachment; filename=/);
  expect(response.headers.get('x-content-type-options')).toBe('nosniff');
}

describe('when the finished file is fetched', () => {
  it('is an attachment that the browser must not sniff or render, even if named .html', async () => {
    const response = await fetch(fileUrl());
    expect(response.status).toBe(200);
    expectAttachmentOnly(response);
    expect(response.headers.get('content-type')).toBe('application/octet-stream');
    expect(response.headers.get('accept-ranges')).toBe('bytes');
    const body = Buffer.from(await response.arrayBuffer());
    expect(createHash('sha256').update(body).digest('hex')).toBe(job.sha256);
  });

  it('answers HEAD with the headers and no body', async () => {
    const response = await fetch(fileUrl(), { method: 'HEAD' });
    expect(response.status).toBe(200);
    expectAttachmentOnly(response);
    expect(response.headers.get('accept-ranges')).toBe('bytes');
    expect(response.headers.get('etag')).toBe(`"${job.sha256}"`);
    expect((await response.arrayBuffer()).byteLength).toBe(0);
  });

  it('sends the part asked for with Range', async () => {
    const response = await fetch(fileUrl(), { headers: { Range: 'bytes=1000-1999' } });
    expect(response.status).toBe(206);
    expectAttachmentOnly(response);
    expect(response.headers.get('content-range')).toBe(`bytes 1000-1999/${size}`);
    expect(Buffer.from(await response.arrayBuffer())).toEqual(source.subarray(1000, 2000));
  });

  it('resumes with If-Range when the file is unchanged, and sends it whole otherwise', async () => {
    const resumed = await fetch(fileUrl(), { headers: { Range: `bytes=${size - 10}-`, 'If-Range': `"${job.sha256}"` } });
    expect(resumed.status).toBe(206);
    expect(Buffer.from(await resumed.arrayBuffer())).toEqual(source.subarray(size - 10));
    const changed = await fetch(fileUrl(), { headers: { Range: 'bytes=10-', 'If-Range': '"something-else"' } });
    expect(changed.status).toBe(200);
    expect((await changed.arrayBuffer()).byteLength).toBe(size);
  });

  it('answers 416 to a range past the end', async () => {
    const response = await fetch(fileUrl(), { headers: { Range: `bytes=${size}-` } });
    expect(response.status).toBe(416);
    expect(response.headers.get('content-range')).toBe(`bytes */${size}`);
  });
});
