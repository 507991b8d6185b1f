'use client';

import { useCallback, useEffect, useState } from 'react';
import { newerJobView } from '@/lib/domain/job-state';
import type { JobError, JobView } from '@/lib/domain/job';
import { getSocket } from '@/lib/browser/socket';
import type { SubscribeAck } from '@/lib/domain/events';
import { useConnectionStatus, type ConnectionStatus } from './use-connection-status';

/** How long to wait for the snapshot before asking again. */
const SUBSCRIBE_TIMEOUT_MS = 10_000;
/** The waits before asking again for a snapshot the server could not give. */
const RESUBSCRIBE_DELAYS_MS = [1_000, 2_000, 5_000, 10_000, 30_000];

export interface UseJobResult {
  /** The newest state seen: the initial one, a snapshot or a live update (see `newerJobView`). */
  job: JobView | null;
  /** Why the server would not subscribe us (e.g. `not_found`), or null. */
  error: JobError | null;
  /**
   * The job was deleted (here or in another tab), or turned out unknown after it was shown
   * (deleted while this tab was offline): nothing more will come.
   */
  deleted: boolean;
  connection: ConnectionStatus;
  /** Takes a state learned otherwise (an action's answer); kept only if it is newer. */
  receive(job: JobView): void;
  /** Shows the job as deleted (this tab deleted it). */
  markDeleted(): void;
}

interface LiveState {
  jobId: string;
  job: JobView | null;
  error: JobError | null;
  deleted: boolean;
}

const emptyState = (jobId: string): LiveState => ({ jobId, job: null, error: null, deleted: false });

/**
 * Follows one job live: subscribes on mount and again on every (re)connect, the acknowledgement
 * carrying the snapshot, and takes `job:update` and `job:deleted` events for this job.
 * Snapshots and events may arrive in any order; the newest state wins (see `newerJobView`), and a
 * deleted job stays deleted. Never polls: it asks again only for a snapshot the server could
 * not give.
 */
export function useJob(jobId: string, initial?: JobView | null): UseJobResult {
  const connection = useConnectionStatus();
  const [live, setLive] = useState<LiveState>(() => emptyState(jobId));

  // Every change goes through here: a state kept for another job id starts afresh.
  const update = useCallback(
    (change: (state: LiveState) => Partial<LiveState>) =>
      setLive((previous) => {
        const state = previous.jobId === jobId ? previous : emptyState(jobId);
        return { ...state, ...change(state) };
      }),
    [jobId],
  );
  const receive = useCallback((incoming: JobView) => update((state) => ({ job: newerJobView(state.job, incoming), error: null })), [update]);
  const markDeleted = useCallback(() => update(() => ({ deleted: true })), [update]);

  useEffect(() => {
    const socket = getSocket();
    // Set on cleanup: an acknowledgement arriving after it belongs to an old subscription.
    let stopped = false;
    let failures = 0;
    let retryTimer: ReturnType<typeof setTimeout> | undefined;

    const subscribe = () => {
      clearTimeout(retryTimer);
      socket.timeout(SUBSCRIBE_TIMEOUT_MS).emit('job:subscribe', jobId, onAck);
    };

    // The server could not answer (a timeout, or `unavailable`): ask again, less and less
    // often, while connected; a reconnect asks at once anyway.
    const subscribeLater = () => {
      const delay = RESUBSCRIBE_DELAYS_MS[Math.min(failures++, RESUBSCRIBE_DELAYS_MS.length - 1)];
      retryTimer = setTimeout(() => socket.connected && subscribe(), delay);
    };

    const onAck = (err: Error | null, result?: SubscribeAck) => {
      if (stopped) return;
      if (err || !result) return subscribeLater();
      if (result.ok) {
        failures = 0;
        receive(result.job);
        return;
      }
      update(() => ({ error: result.error }));
      if (result.error.code !== 'not_found') subscribeLater();
    };

    const onUpdate = (incoming: JobView) => {
      if (incoming.id === jobId) receive(incoming);
    };

    const onDeleted = (deletedId: string) => {
      if (deletedId === jobId) markDeleted();
    };

    socket.on('job:update', onUpdate);
    socket.on('job:deleted', onDeleted);
    socket.on('connect', subscribe);
    // Updates sent while the server could not hear the workers are lost: the snapshot catches up.
    socket.on('live:resumed', subscribe);
    // Emitting while disconnected would be buffered and sent again after `connect`: only
    // subscribe now if the socket is already up, otherwise the `connect` handler does it.
    if (socket.connected) subscribe();

    return () => {
      stopped = true;
      clearTimeout(retryTimer);
      socket.off('connect', subscribe);
      socket.off('live:resumed', subscribe);
      socket.off('job:update', onUpdate);
      socket.off('job:deleted', onDeleted);
      // A disconnected socket is in no room on the server: nothing to leave.
      if (socket.connected) socket.emit('job:unsubscribe', jobId);
    };
  }, [jobId, receive, markDeleted, update]);

  const current = live.jobId === jobId ? live : emptyState(jobId);
  const fromProps = initial && initial.id === jobId ? initial : null;
  const job = fromProps ? newerJobView(current.job, fromProps) : current.job;
  const deleted = current.deleted || (job !== null && current.error?.code === 'not_found');
  return { job, error: current.error, deleted, connection, receive, markDeleted };
}
