import { beforeAll, describe, expect, it } from '@jest/globals';
import type { Page } from 'playwright-core';
import { startServer } from '../utils/app-processes';
import { useBrowsingApp } from '../utils/browser';
import { fixtureSha256 } from '../utils/file-server';
import { api, postJob } from '../utils/test-app';

const MB = 1024 * 1024;

const ctx = useBrowsingApp();
const { openTab } = ctx;

/** Runs in the page: whether the card's progress bar is above `min`. */
const progressAbove = (min: number) =>
  Number(document.querySelector('[data-testid="job-progress"]')?.getAttribute('value')) > min;
/** Runs in the page: whether the card shows a state newer than `version`. */
const versionAbove = (version: number) =>
  Number(document.querySelector('[data-testid="job-card"]')?.getAttribute('data-version')) > version;
const versionOf = async (page: Page) => Number(await page.getByTestId('job-card').getAttribute('data-version'));
const statusOf = (page: Page) => page.getByTestId('job-status').textContent();
const progressOf = async (page: Page) => Number(await page.getByTestId('job-progress').getAttribute('value'));

async function submit(page: Page, url: string): Promise<void> {
  await page.getByLabel('File URL').fill(url);
  await page.getByRole('button', { name: 'Download' }).click();
}

describe('when a user pastes a URL and watches it download', () => {
  const size = 8 * MB;
  const source = () => `${ctx.files.url}/file/${size}?rate=${MB}&seed=browser`;
  let first: Page;
  let second: Page;

  beforeAll(async () => {
    first = await openTab('/');
    await submit(first, source());
  }, 30_000);

  it('shows the card with progress rising', async () => {
    await first.getByTestId('job-card').waitFor();
    await first.waitForFunction(progressAbove, 5);
    await first.waitForFunction(progressAbove, await progressOf(first));
    expect(await statusOf(first)).toBe('active');
    expect(await first.getByTestId('job-bytes').textContent()).toMatch(/MB of 8(\.0)? MB/);
  }, 20_000);

  it('shows the same live download in a second tab opened midway', async () => {
    const href = await first.getByTestId('job-link').getAttribute('href');
    second = await openTab(href!);
    expect(await statusOf(second)).toBe('active');
    // The job page does not link to itself.
    expect(await second.getByTestId('job-link').count()).toBe(0);
    expect(await progressOf(second)).toBeGreaterThan(0);
    // The stored snapshot may be up to a second old; the first live update replaces it within moments.
    const snapshotVersion = await versionOf(second);
    await second.waitForFunction(versionAbove, snapshotVersion, { timeout: 2_000 });
    const [mine, theirs] = await Promise.all([progressOf(first), progressOf(second)]);
    expect(Math.abs(mine - theirs)).toBeLessThan(15);
    // The tab strip tells how it goes, too.
    expect(await second.title()).toMatch(new RegExp(`^\\d+% · ${size} · Live downloader$`));
  }, 20_000);

  it('brings both tabs to completed with the same SHA-256', async () => {
    for (const page of [first, second]) {
      await page.getByTestId('job-status').filter({ hasText: 'completed' }).waitFor({ timeout: 30_000 });
    }
    const hashes = await Promise.all([first, second].map((p) => p.getByTestId('job-sha256').textContent()));
    expect(hashes[0]?.trim()).toBe(fixtureSha256(size, 'browser'));
    expect(hashes[1]?.trim()).toBe(hashes[0]?.trim());
    // The home page's card and the job page's both say until when the file is kept.
    for (const page of [first, second]) {
      expect(await page.getByTestId('job-expiry').textContent()).toMatch(/^File kept until \d{1,2} [A-Z][a-z]{2}( \d{4})?, \d{2}:\d{2}$/);
    }
    // The job page's title followed the job live, from a percentage to done.
    await second.waitForFunction((title) => document.title === title, `Done · ${size} · Live downloader`, { timeout: 2_000 });
  }, 40_000);

  it('shows the completed card at once in a tab opened afterwards', async () => {
    const href = await first.getByTestId('job-link').getAttribute('href');
    const third = await openTab(href!);
    // Rendered on the server: no wait for a socket round trip.
    expect(await statusOf(third)).toBe('completed');
    expect(await third.title()).toBe(`Done · ${size} · Live downloader`);
    expect((await third.getByTestId('job-sha256').textContent())?.trim()).toBe(fixtureSha256(size, 'browser'));
    expect(await third.getByTestId('job-file-link').getAttribute('href')).toMatch(/\/file$/);
    // Kept RETENTION_DAYS (7 by default) after it ended.
    const { body: job } = await api(ctx.app.server.url, href!.replace('/jobs/', '/api/jobs/'));
    const keptUntil = new Date(Date.parse(job.finishedAt) + 7 * 86_400_000).toISOString();
    expect(await third.getByTestId('job-expiry').locator('time').getAttribute('datetime')).toBe(keptUntil);
  });
});

describe('when the input is bad', () => {
  it("shows the API's message", async () => {
    const page = await openTab('/');
    const bad = 'ftp://files.invalid/file.iso';
    const { body } = await postJob(ctx.app.server.url, bad);
    await submit(page, bad);
    const alert = page.getByRole('alert').filter({ hasText: body.error.message });
    await alert.waitFor({ timeout: 5_000 });
    expect(await page.getByLabel('File URL').getAttribute('aria-invalid')).toBe('true');
  });

  it("shows the API's message for what only the server refuses", async () => {
    const page = await openTab('/');
    // The form's own check passes this URL; on its way the request's body turns bad, so the
    // message shown can only be the API's answer.
    const sent = `${ctx.files.url}/file/1000`;
    const bad = `https://example.invalid/${'a'.repeat(2100)}`;
    await page.route('**/api/jobs', (route) => route.continue({ postData: JSON.stringify({ url: bad }) }));
    const { status, body } = await postJob(ctx.app.server.url, bad);
    expect(status).toBe(400);
    await submit(page, sent);
    await page.getByRole('alert').filter({ hasText: body.error.message }).waitFor({ timeout: 5_000 });
    expect(await page.getByTestId('job-card').count()).toBe(0);
  });
});

describe('when a tab loses its connection mid-download', () => {
  it('shows reconnecting, then the true state once the server is back', async () => {
    const size = 6 * MB;
    const created = await postJob(ctx.app.server.url, `${ctx.files.url}/file/${size}?rate=${MB}&seed=reconnect`);
    const page = await openTab(`/jobs/${created.body.id}`);
    await page.waitForFunction(progressAbove, 0);
    // The server-rendered card may already show progress: the connection must be up before it is lost.
    await page.getByTestId('connection-status').filter({ hasText: /^Connected$/ }).waitFor({ timeout: 10_000 });

    const port = Number(new URL(ctx.app.server.url).port);
    await ctx.app.server.stop();
    await page.getByTestId('connection-status').filter({ hasText: /reconnecting/i }).waitFor({ timeout: 10_000 });
    // Said once for the page, by its one live region for the connection.
    await page.getByRole('status').filter({ hasText: 'Connection lost. Reconnecting…' }).waitFor({ timeout: 2_000 });

    // The download goes on in the worker while no server is there to relay it.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    ctx.app.server = await startServer(ctx.app.settings.env, 'production', port);

    await page.getByTestId('job-status').filter({ hasText: 'completed' }).waitFor({ timeout: 30_000 });
    expect((await page.getByTestId('job-sha256').textContent())?.trim()).toBe(fixtureSha256(size, 'reconnect'));
    expect(await page.getByTestId('connection-status').filter({ hasText: /reconnecting/i }).count()).toBe(0);
    expect(await page.getByTestId('connection-announcer').textContent()).toBe('Connected again.');
  }, 60_000);
});
