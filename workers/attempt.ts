/**
 * One attempt at a job's download, with its progress reported live: the bytes, speed and time
 * left while it runs, and why, whenever the bytes shown go back (the server could not resume).
 * The processor decides what the outcome means for the job.
 */
import { downloadToFile, STARTED_OVER, type DownloadLimits, type DownloadResult } from '../lib/engine/download';
import { ProgressMeter, progressPercent } from '../lib/engine/progress-meter';
import { formatBytes } from '../lib/util/format';
import type { Logger } from '../lib/infra/logger';
import { jobDirectory } from '../lib/infra/job-files';
import type { JobReporter } from './reporter';

export interface AttemptSettings {
  dataDir: string;
  allowPrivateAddresses: boolean;
  limits: DownloadLimits;
  logger: Logger;
}

/** How often speed and time left are refreshed while no bytes arrive. */
const TICK_MS = 1000;

/**
 * Downloads `sourceUrl` into the job's folder, continuing from the partial file an earlier
 * attempt left there when the server allows it. Rejects as `downloadToFile` does; with
 * HandsOff once a later attempt has claimed the folder.
 */
export async function downloadWithProgress(
  reporter: JobReporter,
  sourceUrl: string,
  signal: AbortSignal,
  settings: AttemptSettings,
  /** The attempt's own token (its BullMQ lock's): it owns the job's folder with it (see lib/engine/fence). */
  fence?: string,
): Promise<DownloadResult> {
  const jobId = reporter.job.id;
  // The meter counts from where this attempt started, so resumed bytes are no burst of speed.
  let meter = new ProgressMeter();
  let offset = 0;
  let bytesTotal: number | null = null;
  let bytesReceived = reporter.job.bytesReceived;
  const reportProgress = () =>
    reporter.progress({
      bytesReceived,
      progress: progressPercent(bytesReceived, bytesTotal),
      speed: meter.speed(),
      eta: meter.eta(bytesTotal === null ? null : bytesTotal - offset),
    });
  const ticker = setInterval(() => reporter.job.stage === 'downloading' && reportProgress(), TICK_MS);

  try {
    return await downloadToFile({
      url: sourceUrl,
      directory: jobDirectory(settings.dataDir, jobId),
      allowPrivateAddresses: settings.allowPrivateAddresses,
      limits: settings.limits,
      resume: true,
      fence,
      signal,
      onResponse: (info) => {
        const resumedFrom = info.resumedFrom ?? 0;
        const notice = info.restartReason ?? resumeNotice(bytesReceived, resumedFrom);
        meter = new ProgressMeter();
        offset = resumedFrom;
        bytesTotal = info.bytesTotal;
        bytesReceived = resumedFrom;
        // Reported as progress: sent on the emit rhythm, stored with the next checkpoint or the
        // status change that ends the attempt. The status stays `active`, and a write of its own
        // would be a third store write for every small file, which is done before it could matter.
        reporter.progress({
          stage: 'downloading',
          fileName: info.fileName,
          bytesTotal,
          bytesReceived,
          progress: progressPercent(bytesReceived, bytesTotal),
          notice,
        });
      },
      onProgress: (received) => {
        bytesReceived = received;
        meter.record(received - offset);
        reportProgress();
      },
    });
  } finally {
    clearInterval(ticker);
  }
}

/**
 * What the card says when an attempt takes over from an earlier one: where it continued, or
 * that it started over. Said whenever bytes came before, since tabs may have seen more of them
 * than the stored state that `shown` comes from. Null for a fresh start.
 */
function resumeNotice(shown: number, resumedFrom: number): string | null {
  if (resumedFrom > 0) return `Continued from ${formatBytes(resumedFrom)} after an interruption.`;
  return shown > 0 ? STARTED_OVER : null;
}
