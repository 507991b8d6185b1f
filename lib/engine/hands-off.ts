/**
 * A way to stop a download that leaves its files exactly as they are: the caller has learnt that
 * someone else owns them now (another attempt that took the download over), so this one must
 * not write, rename or remove anything more. Abort the download's signal with a HandsOff.
 */
import { DownloadError } from './errors';

export class HandsOff extends DownloadError {
  constructor(message: string) {
    super('aborted', message);
  }
}

export function isHandsOff(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true && signal.reason instanceof HandsOff;
}
