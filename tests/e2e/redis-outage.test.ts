/**
 * A tab while Redis is away: the page stays up and says "Reconnecting…" (the server can no
 * longer hear the workers), never a wrong final state; once Redis is back, empty as after a
 * restart, it says "Connected" again and follows the download to its true end.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Env } from '../utils/app-processes';
import { useBrowsingApp } from '../utils/browser';
import { fixtureSha256 } from '../utils/file-server';
import { startOwnRedis, type OwnRedis } from '../faults/parts';

const MB = 1024 * 1024;
const env: Env = {};
let redis: OwnRedis | undefined;

// Before the app starts (hooks run in the order they are registered): it uses this Redis.
beforeAll(async () => {
  redis = await startOwnRedis();
  env.REDIS_URL = redis.url;
}, 30_000);
const ctx = useBrowsingApp({ env });
afterAll(() => redis?.stop(), 30_000);

describe('when Redis goes away mid-download and comes back empty', () => {
  it('says Reconnecting… meanwhile, then Connected, and shows the download to its true end', async () => {
    const page = await ctx.openTab('/');
    const size = 2 * MB;
    await page.getByLabel('File URL').fill(`${ctx.files.url}/file/${size}?seed=outage&gate=outage&holdafter=${MB / 2}`);
    await page.getByRole('button', { name: 'Download' }).click();
    await page.getByTestId('job-status').filter({ hasText: 'active' }).waitFor({ timeout: 10_000 });
    const connection = page.getByTestId('connection-status');
    await connection.filter({ hasText: /^Connected$/ }).waitFor({ timeout: 10_000 });

    await redis!.kill();
    await connection.filter({ hasText: /reconnecting/i }).waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('job-status').textContent()).toContain('active');

    await redis!.start();
    ctx.files.release('outage');
    await connection.filter({ hasText: /^Connected$/ }).waitFor({ timeout: 15_000 });
    await page.getByTestId('job-status').filter({ hasText: 'completed' }).waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('job-card').textContent()).toContain(fixtureSha256(size, 'outage'));
  }, 90_000);
});
