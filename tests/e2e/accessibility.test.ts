/**
 * Every page state a person meets, checked with axe-core against WCAG 2.1 A and AA (names,
 * roles, labels, contrast, landmarks…), on a phone-sized and a desktop-sized screen.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from '@jest/globals';
import type { Page } from 'playwright-core';
import { useBrowsingApp } from '../utils/browser';
import { postJob } from '../utils/test-app';

const MB = 1024 * 1024;
const AXE_SOURCE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

const ctx = useBrowsingApp();

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[] }>;
}

/** The WCAG 2.1 A/AA rules that fail on `page`, each with the elements at fault. */
async function violations(page: Page): Promise<Array<{ rule: string; help: string; targets: string[] }>> {
  await page.addScriptTag({ path: AXE_SOURCE });
  const found = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(context: Document, options: object): Promise<{ violations: Violation[] }> } }).axe;
    const result = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return result.violations;
  });
  return found.map((v) => ({ rule: v.id, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')) }));
}

async function jobThatEnds(path: string, status: string): Promise<string> {
  const { body } = await postJob(ctx.app.server.url, `${ctx.files.url}${path}`);
  const page = await ctx.openTab(`/jobs/${body.id}`);
  await page.getByTestId('job-status').filter({ hasText: status }).waitFor({ timeout: 20_000 });
  await page.close();
  return `/jobs/${body.id}`;
}

describe.each([
  ['a phone', { width: 390, height: 844 }],
  ['a desktop', { width: 1280, height: 900 }],
])('on %s', (_name, viewport) => {
  async function open(path: string): Promise<Page> {
    const page = await ctx.openTab(path);
    await page.setViewportSize(viewport);
    return page;
  }

  it('the empty home page passes', async () => {
    expect(await violations(await open('/'))).toEqual([]);
  });

  it('the form showing an error passes', async () => {
    const page = await open('/');
    await page.getByLabel('File URL').fill('ftp://files.invalid/file.iso');
    await page.getByRole('button', { name: 'Download' }).click();
    await page.getByRole('alert').filter({ hasText: 'Only http:// and https:// URLs' }).waitFor();
    expect(await violations(page)).toEqual([]);
  });

  it('a card with a download under way passes', async () => {
    const page = await open('/');
    await page.getByLabel('File URL').fill(`${ctx.files.url}/file/${4 * MB}?rate=${MB}&seed=a11y`);
    await page.getByRole('button', { name: 'Download' }).click();
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="job-progress"]')?.getAttribute('value')) > 0);
    expect(await violations(page)).toEqual([]);
  }, 20_000);

  it('a completed job page passes', async () => {
    expect(await violations(await open(await jobThatEnds('/file/1000?seed=a11y-done', 'completed')))).toEqual([]);
  }, 30_000);

  it('a failed job page passes', async () => {
    expect(await violations(await open(await jobThatEnds('/status/404', 'failed')))).toEqual([]);
  }, 30_000);

  it('the sign-in page showing an error passes', async () => {
    const page = await open('/signin');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'Enter the access token.' }).waitFor();
    expect(await violations(page)).toEqual([]);
  });

  it('the page for an unknown job passes', async () => {
    expect(await violations(await open('/jobs/00000000-0000-4000-8000-000000000000'))).toEqual([]);
  });
});

describe('the check itself', () => {
  it('finds the faults of a page that has them', async () => {
    const page = await ctx.openTab('/');
    await page.setContent(
      '<!doctype html><html lang="en"><title>t</title><main><input type="text"><img src="data:,"><button></button>' +
        '<p style="color:#ddd;background:#fff">faint</p></main></html>',
    );
    const rules = (await violations(page)).map((v) => v.rule).sort();
    expect(rules).toEqual(['button-name', 'color-contrast', 'image-alt', 'label']);
  });
});
