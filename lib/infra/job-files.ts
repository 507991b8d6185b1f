/**
 * Where a job's file lives: DATA_DIR/<job id>/<file name>. The worker writes there and the
 * file route reads from there; neither ever touches a path outside the job's folder.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';

export function jobDirectory(dataDir: string, jobId: string): string {
  return path.join(dataDir, jobId);
}

/** The stored file's path, or null if the name would leave the job's folder. */
export function jobFilePath(dataDir: string, jobId: string, fileName: string): string | null {
  const directory = jobDirectory(dataDir, jobId);
  const filePath = path.resolve(directory, fileName);
  return path.dirname(filePath) === directory ? filePath : null;
}

/** Removes the job's folder and everything in it (a partial or finished file); fine if absent. */
export async function removeJobFiles(dataDir: string, jobId: string): Promise<void> {
  await rm(jobDirectory(dataDir, jobId), { recursive: true, force: true });
}
