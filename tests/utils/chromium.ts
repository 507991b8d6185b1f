/**
 * How the browser tests and the benchmark start Chromium. Apart from ./browser, which registers
 * jest hooks, so that code outside jest (bench/) launches it the very same way.
 */
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium, headless, with nothing that would reach beyond loopback. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}
