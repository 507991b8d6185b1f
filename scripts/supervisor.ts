/**
 * Keeps one child process of `npm start` running: a child that dies is started again after a
 * backoff that doubles with each quick failure, and the reason is logged. It gives up only when
 * the child keeps failing right at start (a bad setting, a port taken): restarting that for ever
 * would hide the message that explains it. A run that lasted `stableAfterMs` counts as a good
 * start, so a crash after hours of work is always restarted at once.
 */
import type { Service } from './services/process';

export interface SupervisorOptions {
  /** What people call the child in the log: "web server", "download worker". */
  name: string;
  /** Spawns a new copy of the child. */
  start: () => Service;
  log: (line: string) => void;
  /** The first backoff; it doubles after each quick failure, up to `maxBackoffMs`. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** A run at least this long resets the backoff and the count of failed starts. */
  stableAfterMs?: number;
  /** Failed starts in a row (each shorter than `stableAfterMs`) after which it gives up. */
  maxFailedStarts?: number;
}

export interface Supervisor {
  readonly name: string;
  /** The copy running now (or the last one, once stopped). */
  current(): Service;
  /** Resolves when the supervisor gave up on the child, with the reason. Never resolves otherwise. */
  readonly gaveUp: Promise<string>;
  /** Stops restarting, and stops the child. */
  stop(opts?: { signal?: NodeJS.Signals; graceMs?: number }): Promise<void>;
}

/** How the child ended, in words: `exit code 1`, `signal SIGKILL`. */
export function howItEnded(service: Service): string {
  const { exitCode, signalCode } = service.child;
  return signalCode ? `signal ${signalCode}` : `exit code ${exitCode}`;
}

export function supervise(options: SupervisorOptions): Supervisor {
  const { name, start, log, backoffMs = 1_000, maxBackoffMs = 30_000, stableAfterMs = 30_000, maxFailedStarts = 5 } = options;
  let stopping = false;
  let failedStarts = 0;
  let pendingRestart: NodeJS.Timeout | undefined;
  let giveUp!: (reason: string) => void;
  const gaveUp = new Promise<string>((resolve) => (giveUp = resolve));

  const launch = (): Service => {
    const service = start();
    const startedAt = Date.now();
    log(`The ${name} started (pid ${service.child.pid}).`);
    void service.exited.then(() => {
      if (stopping) return;
      const ranMs = Date.now() - startedAt;
      failedStarts = ranMs >= stableAfterMs ? 1 : failedStarts + 1;
      const output = service.tail();
      const why = `The ${name} stopped (${howItEnded(service)}) after ${(ranMs / 1000).toFixed(1)} s${output ? `; its last output:\n${output}` : ''}`;
      if (failedStarts >= maxFailedStarts) {
        log(`${why}\nIt failed ${failedStarts} times in a row within ${stableAfterMs / 1000} s of starting; giving up.`);
        return giveUp(`the ${name} keeps failing at start (${howItEnded(service)})`);
      }
      const delay = Math.min(maxBackoffMs, backoffMs * 2 ** (failedStarts - 1));
      log(`${why}. Restarting it in ${(delay / 1000).toFixed(1)} s.`);
      pendingRestart = setTimeout(() => {
        pendingRestart = undefined;
        if (!stopping) current = launch();
      }, delay);
    });
    return service;
  };

  let current = launch();
  return {
    name,
    current: () => current,
    gaveUp,
    async stop(opts) {
      stopping = true;
      clearTimeout(pendingRestart);
      await current.stop(opts);
    },
  };
}
