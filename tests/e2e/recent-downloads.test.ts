/** The home page keeps the downloads started in this browser: across reloads and across its tabs. */
import { describe, expect, it } from '@jest/globals';
import type { Page } from 'playwright-core';
import { RECENT_JOBS_KEY } from '../../hooks/use-recent-jobs';
import { useBrowsingApp } from '../utils/browser';

const MB = 1024 * 1024;

const ctx = useBrowsingApp();

async function submit(page: Page, url: string): Promise<string> {
  await page.getByLabel('File URL').fill(url);
  await page.getByRole('button', { name: 'Download' }).click();
  const card = page.getByTestId('job-card').filter({ hasText: url.split('?')[0].replace(/^http:\/\//, '') });
  return (await card.getByTestId('job-link').getAttribute('href'))!;
}

const links = (page: Page) => page.getByTestId('job-link').evaluateAll((all) => all.map((a) => a.getAttribute('href')));

describe('when a download was started on the home page', () => {
  let profile: Awaited<ReturnType<typeof ctx.openProfile>>;
  let home: Page;
  let first: string;

  it('is still there, live, after a reload', async () => {
    profile = await ctx.openProfile();
    home = await profile.openTab('/');
    first = await submit(home, `${ctx.files.url}/file/${2 * MB}?rate=${2 * MB}&seed=recent-1`);
    await home.reload();
    await home.getByTestId('job-card').first().waitFor();
    expect(await links(home)).toEqual([first]);
    await home.getByTestId('job-status').filter({ hasText: 'completed' }).waitFor({ timeout: 15_000 });
  }, 30_000);

  it('shows in another home tab at once, newest first', async () => {
    const other = await profile.openTab('/');
    await other.getByTestId('job-card').first().waitFor();
    const second = await submit(home, `${ctx.files.url}/file/1000?seed=recent-2`);
    await other.waitForFunction((n) => document.querySelectorAll('[data-testid="job-link"]').length === n, 2);
    expect(await links(other)).toEqual([second, first]);
    // One live region for the connection, however many cards: none of them has its own.
    expect(await other.getByRole('status').filter({ hasText: /connect/i }).count()).toBeLessThanOrEqual(1);
    expect(await other.getByTestId('connection-status').evaluateAll((all) => all.filter((p) => p.closest('[role="status"], [aria-live]')).length)).toBe(0);
  }, 20_000);

  it('is gone after a reload once deleted', async () => {
    const card = home.getByTestId('job-card').filter({ has: home.locator(`a[href="${first}"]`) });
    await card.getByRole('button', { name: 'Delete' }).click();
    await card.getByRole('button', { name: 'Really delete?' }).click();
    await home.getByText('This download was deleted.').waitFor({ timeout: 5_000 });
    await home.reload();
    await home.getByTestId('job-card').first().waitFor();
    expect(await links(home)).not.toContain(first);
  }, 20_000);

  it('ignores a stored list that is not its own', async () => {
    await home.evaluate((key) => localStorage.setItem(key, '{"not": "a list"'), RECENT_JOBS_KEY);
    await home.reload();
    await home.getByLabel('File URL').waitFor();
    expect(await home.getByTestId('job-card').count()).toBe(0);
  });
});

describe('when several URLs are pasted at once', () => {
  it('starts them all with Enter, one card per line, the first line on top', async () => {
    const page = await (await ctx.openProfile()).openTab('/');
    const urls = [1, 2].map((n) => `${ctx.files.url}/file/1000?seed=paste-${n}`);
    const box = page.getByLabel('File URL');
    await box.focus();
    // What a paste delivers: both lines in one input event.
    await page.keyboard.insertText(urls.join('\n'));
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="job-card"]').length === 2);
    const shown = await page.getByTestId('job-card').locator('.job-card__url').allTextContents();
    expect(shown).toEqual(urls);
    expect(await box.inputValue()).toBe('');
  }, 20_000);

  it('names the line that is wrong, and starts none of them', async () => {
    const page = await (await ctx.openProfile()).openTab('/');
    const box = page.getByLabel('File URL');
    await box.fill(`${ctx.files.url}/file/1000?seed=paste-3`);
    // Shift+Enter starts a line; a blank one is passed over, but still counted.
    await box.press('Shift+Enter');
    await box.press('Shift+Enter');
    await page.keyboard.insertText('ftp://files.invalid/a.iso');
    await page.getByRole('button', { name: 'Download' }).click();
    await page.getByRole('alert').filter({ hasText: 'Line 3: Only http:// and https:// URLs can be downloaded.' }).waitFor({ timeout: 5_000 });
    expect(await box.getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByTestId('job-card').count()).toBe(0);
  });
});
