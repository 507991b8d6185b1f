/** Jest globalTeardown: stops what global-setup started and removes its temporary data. */
import fs from 'node:fs';
import type { TestServices } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  const state: TestServices | undefined = globalThis.__testServices;
  if (!state) return;
  globalThis.__testServices = undefined;
  for (const stop of [...state.stops].reverse()) {
    await stop().catch((err: Error) => console.error(`teardown: ${err.message}`));
  }
  for (const dir of state.tempDirs) fs.rmSync(dir, { recursive: true, force: true });
}
