import { beforeAll, describe, expect, it } from '@jest/globals';
import type { Page } from 'playwright-core';
import { startServer } from '../utils/app-processes';
import { useBrowsingApp } from '../utils/browser';
import { fixtureSha256 } from '../utils/file-server';
import { jobAction, postJob } from '../utils/test-app';

const MB = 1024 * 1024;

// The retry test reads the countdown of the issue's own example: "Retrying in 4 s (attempt 2 of 5)".
const ctx = useBrowsingApp({ env: { DOWNLOAD_ATTEMPTS: '5', RETRY_BACKOFF_MS: '4000' } });
const { openTab } = ctx;

const statusIs = (page: Page, status: string, timeout = 10_000) =>
  page.getByTestId('job-status').filter({ hasText: status }).waitFor({ timeout });

describe('when a user cancels a download, then retries it', () => {
  const size = 6 * MB;
  let first: Page;
  let second: Page;

  let shared: Page;

  beforeAll(async () => {
    // Two tabs of the browser that starts the download (its owner), and the shared link opened
    // in someone else's browser.
    const own = await ctx.openProfile();
    first = await own.openTab('/');
    await first.getByLabel('File URL').fill(`${ctx.files.url}/file/${size}?rate=${MB}&seed=e2e-actions`);
    await first.getByRole('button', { name: 'Download' }).click();
    await statusIs(first, 'active');
    const href = await first.getByTestId('job-link').getAttribute('href');
    second = await own.openTab(href!);
    await statusIs(second, 'active');
    shared = await openTab(href!);
    await statusIs(shared, 'active');
  }, 30_000);

  it('offers Cancel while it runs, and no Retry', async () => {
    expect(await first.getByRole('button', { name: 'Cancel' }).isEnabled()).toBe(true);
    expect(await first.getByRole('button', { name: 'Retry' }).count()).toBe(0);
  });

  it('shows the live card through a shared link, without controls and without the query of the URL', async () => {
    expect(await shared.getByRole('button').filter({ hasText: /Cancel|Retry|Delete/ }).count()).toBe(0);
    const text = await shared.getByTestId('job-card').textContent();
    expect(text).toContain(`/file/${size}?…`);
    expect(text).not.toContain('seed=e2e-actions');
    expect(await first.getByTestId('job-card').textContent()).toContain('seed=e2e-actions');
  });

  it('shows cancelled in both tabs after Cancel is clicked in one', async () => {
    await first.getByRole('button', { name: 'Cancel' }).click();
    await Promise.all([statusIs(first, 'cancelled', 2_000), statusIs(second, 'cancelled', 2_000)]);
    // Progress the worker sent just before the cancel reached it may show for a moment; its own
    // confirmation then outranks it, and the button goes.
    await second.getByRole('button', { name: 'Cancel' }).waitFor({ state: 'detached', timeout: 2_000 });
    expect(await second.getByRole('button', { name: 'Cancel' }).count()).toBe(0);
  });

  it('runs it again after Retry is clicked, to completion in both tabs', async () => {
    await second.getByRole('button', { name: 'Retry' }).click();
    for (const page of [first, second, shared]) await statusIs(page, 'completed', 30_000);
    // The file is there for whoever has the link; the controls are not.
    await shared.getByTestId('job-file-link').waitFor();
    expect(await shared.getByRole('button').filter({ hasText: /Cancel|Retry|Delete/ }).count()).toBe(0);
    const hashes = await Promise.all([first, second].map((p) => p.getByTestId('job-sha256').textContent()));
    expect(hashes.map((h) => h?.trim())).toEqual([fixtureSha256(size, 'e2e-actions'), fixtureSha256(size, 'e2e-actions')]);
    expect(await first.getByRole('alert').filter({ hasText: /\S/ }).count()).toBe(0);
  }, 40_000);

  it('asks once more before deleting, then shows the download as deleted in both tabs', async () => {
    await first.getByRole('button', { name: 'Delete' }).click();
    await first.getByRole('button', { name: 'Really delete?' }).click();
    for (const page of [first, second]) {
      await page.getByText('This download was deleted.').waitFor({ timeout: 5_000 });
    }
  }, 15_000);
});

describe('when a download fails in a way that may pass', () => {
  it('shows the automatic retry on the card, counting down, with the attempt number', async () => {
    const page = await openTab('/');
    await page.getByLabel('File URL').fill(`${ctx.files.url}/status/503?seed=e2e-retry`);
    await page.getByRole('button', { name: 'Download' }).click();
    const retry = page.getByTestId('job-retry');
    await retry.filter({ hasText: /^Retrying in [34] s \(attempt 2 of 5\)$/ }).waitFor({ timeout: 10_000 });
    await retry.filter({ hasText: /^Retrying in [12] s \(attempt 2 of 5\)$/ }).waitFor({ timeout: 3_000 });
    await statusIs(page, 'queued', 1_000);
    expect(await page.getByTestId('job-error').textContent()).toContain('503');
    await page.getByRole('button', { name: 'Cancel' }).click();
    await statusIs(page, 'cancelled', 5_000);
  }, 30_000);
});

describe('when a download is deleted while a tab is offline', () => {
  it('shows it as deleted once the tab is back, not the state it last saw', async () => {
    const created = await postJob(ctx.app.server.url, `${ctx.files.url}/file/1000?seed=e2e-offline`);
    const page = await openTab(`/jobs/${created.body.id}`);
    await statusIs(page, 'completed');
    // The server-rendered card is already final: wait for the socket before cutting it.
    await page.getByTestId('connection-status').filter({ hasText: /^Connected$/ }).waitFor({ timeout: 10_000 });

    // The tab's server goes; another node deletes the job meanwhile, so no `job:deleted`
    // reaches the tab.
    const port = Number(new URL(ctx.app.server.url).port);
    await ctx.app.server.stop();
    await page.getByTestId('connection-status').filter({ hasText: /reconnecting/i }).waitFor({ timeout: 10_000 });
    const other = await startServer(ctx.app.settings.env);
    try {
      expect((await jobAction(other.url, created.body.id, 'delete')).status).toBe(204);
    } finally {
      await other.stop();
    }
    ctx.app.server = await startServer(ctx.app.settings.env, 'production', port);

    await page.getByText('This download was deleted.').waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('job-card').count()).toBe(0);
  }, 60_000);
});
