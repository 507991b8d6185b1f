/**
 * Who owns a download's folder. Two attempts may run at once for a moment: one whose process
 * froze past its lock, and the one that took the download over. The later must own the files,
 * so the earlier cannot write into, rename or remove what the later continues. Each attempt
 * claims the folder before it touches anything, writing its fence (a token of its own) to
 * `.owner` whole, by rename; before each write to the partial file, its rename and each removal
 * it checks that its claim is still the one there. An attempt that finds another claim stops
 * with HandsOff and touches nothing more.
 *
 * The check reads the claim file's identity (inode and change time, one stat), not its
 * contents: a claim by another attempt is a new file, whatever its token.
 */
import { randomUUID } from 'node:crypto';
import { rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { HandsOff } from './hands-off';

const OWNER_FILE = '.owner';

export class Fence {
  private constructor(
    private readonly file: string,
    private readonly identity: string,
  ) {}

  /** Claims `directory` for `token`, whoever held it before. */
  static async claim(directory: string, token: string): Promise<Fence> {
    const file = path.join(directory, OWNER_FILE);
    const draft = `${file}.${randomUUID()}.tmp`;
    await writeFile(draft, token);
    await rename(draft, file);
    return new Fence(file, await identityOf(file));
  }

  /** Throws HandsOff unless this claim is still the folder's. */
  async check(): Promise<void> {
    if ((await identityOf(this.file).catch(() => null)) !== this.identity) {
      throw new HandsOff('Another attempt took this download over: its files are left to it.');
    }
  }
}

async function identityOf(file: string): Promise<string> {
  const { ino, ctimeNs } = await stat(file, { bigint: true });
  return `${ino}:${ctimeNs}`;
}

/** Runs `action` if `fence` (when there is one) still holds. */
export async function fenced<T>(fence: Fence | null, action: () => Promise<T>): Promise<T> {
  await fence?.check();
  return action();
}
