/**
 * Signing in, in Chromium: with ACCESS_TOKEN set, a page sends the person to the sign-in
 * page, a wrong token is said so, the right one brings them back, and the live card works
 * (its socket carries the session cookie).
 */
import { describe, expect, it } from '@jest/globals';
import { useBrowsingApp } from '../utils/browser';
import { fixtureSha256 } from '../utils/file-server';

const TOKEN = 'browser-sign-in-token-0123456789';
const ctx = useBrowsingApp({ env: { ACCESS_TOKEN: TOKEN } });

describe('a server with an access token', () => {
  it('asks for it once, then shows a download live', async () => {
    const page = await ctx.openTab('/');
    expect(new URL(page.url()).pathname).toBe('/signin');
    const token = page.getByLabel('Access token');
    await token.fill('this-is-not-the-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'That is not the access token.' }).waitFor({ timeout: 5_000 });
    expect(await token.getAttribute('aria-invalid')).toBe('true');

    await token.fill(TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((url) => url.pathname === '/', { timeout: 10_000 });
    await page.getByLabel('File URL').fill(`${ctx.files.url}/file/100000?seed=signed-in`);
    await page.getByRole('button', { name: 'Download' }).click();
    await page.getByTestId('job-status').filter({ hasText: 'completed' }).waitFor({ timeout: 15_000 });
    expect((await page.getByTestId('job-sha256').textContent())?.trim()).toBe(fixtureSha256(100000, 'signed-in'));
  }, 40_000);
});
