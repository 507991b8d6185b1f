/** Reading what an app process logged (pino's JSON lines) in tests. */

/** Whether `output` holds a log line with message `msg` for the job `jobId`. */
export function hasLogged(output: string, msg: string, jobId: string): boolean {
  return output.split('\n').some((line) => {
    if (!line.startsWith('{')) return false;
    try {
      const entry = JSON.parse(line) as { msg?: string; jobId?: string };
      return entry.msg === msg && entry.jobId === jobId;
    } catch {
      return false; // The last line, still being written: not one to look for yet.
    }
  });
}
