/**
 * Ten tabs on one job page follow the same download live, with no tab asking the server
 * anything over HTTP once loaded: they only listen. And a download of unknown size still
 * tells its bytes and speed.
 */
import { describe, expect, it } from '@jest/globals';
import type { Page } from 'playwright-core';
import { useBrowsingApp } from '../utils/browser';
import { fixtureSha256 } from '../utils/file-server';
import { postJob } from '../utils/test-app';

const MB = 1024 * 1024;
const TABS = 10;

const ctx = useBrowsingApp();

/** Every HTTP request a tab makes from now on that could be polling: the API, or socket.io's long-polling. */
function recordPolling(page: Page): string[] {
  const seen: string[] = [];
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.pathname.startsWith('/api/') || url.searchParams.get('transport') === 'polling') seen.push(request.url());
  });
  return seen;
}

describe(`when ${TABS} tabs watch one download`, () => {
  it('shows the same live state in all of them, none of them polling', async () => {
    // The source holds its second megabyte back until every tab is open, however slow the
    // machine is at opening them.
    const size = 4 * MB;
    const { body: job } = await postJob(ctx.app.server.url, `${ctx.files.url}/file/${size}?rate=${MB}&seed=many-tabs&gate=many-tabs&holdafter=${MB}`);
    const tabs = await Promise.all(Array.from({ length: TABS }, () => ctx.openTab(`/jobs/${job.id}`)));
    const polled = tabs.map(recordPolling);
    for (const tab of tabs) expect(await tab.getByTestId('job-status').textContent()).not.toBe('completed');
    ctx.files.release('many-tabs');

    // Every tab moves while the download runs: they are live, not stuck on the page they loaded.
    const loaded = await Promise.all(tabs.map((tab) => tab.getByTestId('job-card').getAttribute('data-version')));
    await Promise.all(
      tabs.map((tab, i) =>
        tab.waitForFunction(
          (v) => Number(document.querySelector('[data-testid="job-card"]')?.getAttribute('data-version')) > v,
          Number(loaded[i]),
          { timeout: 15_000 },
        ),
      ),
    );
    await Promise.all(tabs.map((tab) => tab.getByTestId('job-status').filter({ hasText: 'completed' }).waitFor({ timeout: 40_000 })));

    const finals = await Promise.all(
      tabs.map(async (tab) => ({
        sha256: (await tab.getByTestId('job-sha256').textContent())?.trim(),
        version: await tab.getByTestId('job-card').getAttribute('data-version'),
      })),
    );
    expect(new Set(finals.map((f) => JSON.stringify(f))).size).toBe(1);
    expect(finals[0].sha256).toBe(fixtureSha256(size, 'many-tabs'));
    expect(polled.flat()).toEqual([]);
    await Promise.all(tabs.map((tab) => tab.close()));
  }, 75_000);
});

describe('when the server does not say how large the file is', () => {
  it('shows the bytes received and the speed, with a progress bar that claims no percentage', async () => {
    const { body: job } = await postJob(ctx.app.server.url, `${ctx.files.url}/file/${4 * MB}?rate=${MB}&nolength=1&seed=no-length`);
    const tab = await ctx.openTab(`/jobs/${job.id}`);
    await tab.getByTestId('job-bytes').filter({ hasText: /[1-9][\d.]* [KM]B received/ }).waitFor({ timeout: 10_000 });
    expect(await tab.getByTestId('job-speed').textContent()).toMatch(/[1-9][\d.]* [KM]B\/s/);
    expect(await tab.getByTestId('job-progress').getAttribute('value')).toBeNull();
    await tab.getByTestId('job-status').filter({ hasText: 'completed' }).waitFor({ timeout: 15_000 });
    expect((await tab.getByTestId('job-sha256').textContent())?.trim()).toBe(fixtureSha256(4 * MB, 'no-length'));
  }, 30_000);
});
