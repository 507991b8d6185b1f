'use client';

import { useCallback, useEffect, useState } from 'react';
import { newerJob } from '@/lib/jobs/state';
import type { JobError, JobView } from '@/lib/jobs/types';
import { getSocket } from '@/lib/realtime/client';
import type { SubscribeAck } from '@/lib/realtime/events';
import { useConnectionStatus, type ConnectionStatus } from './use-connection-status';

/** How long to wait for the snapshot before leaving it to the next reconnect. */
const SUBSCRIBE_TIMEOUT_MS = 10_000;

export interface UseJobResult {
  /** The newest state seen: the initial one, a snapshot or a live update, by version. */
  job: JobView | null;
  /** Why the server would not subscribe us (e.g. `not_found`), or null. */
  error: JobError | null;
  /** The job was deleted (here or in another tab): nothing more will come. */
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
 * Snapshots and events may arrive in any order; the highest version wins, and a deleted job
 * stays deleted. Never polls.
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
  const receive = useCallback((incoming: JobView) => update((state) => ({ job: newerJob(state.job, incoming), error: null })), [update]);
  const markDeleted = useCallback(() => update(() => ({ deleted: true })), [update]);

  useEffect(() => {
    const socket = getSocket();
    // Set on cleanup: an acknowledgement arriving after it belongs to an old subscription.
    let stopped = false;

    const onAck = (err: Error | null, result?: SubscribeAck) => {
      // A timeout: the next `connect` subscribes again, and live updates still arrive meanwhile.
      if (stopped || err || !result) return;
      if (result.ok) receive(result.job);
      else update(() => ({ error: result.error }));
    };

    const onConnect = () => {
      socket.timeout(SUBSCRIBE_TIMEOUT_MS).emit('job:subscribe', jobId, onAck);
    };

    const onUpdate = (incoming: JobView) => {
      if (incoming.id === jobId) receive(incoming);
    };

    const onDeleted = (deletedId: string) => {
      if (deletedId === jobId) markDeleted();
    };

    socket.on('job:update', onUpdate);
    socket.on('job:deleted', onDeleted);
    socket.on('connect', onConnect);
    // Emitting while disconnected would be buffered and sent again after `connect`: only
    // subscribe now if the socket is already up, otherwise `onConnect` does it.
    if (socket.connected) onConnect();

    return () => {
      stopped = true;
      socket.off('connect', onConnect);
      socket.off('job:update', onUpdate);
      socket.off('job:deleted', onDeleted);
      // A disconnected socket is in no room on the server: nothing to leave.
      if (socket.connected) socket.emit('job:unsubscribe', jobId);
    };
  }, [jobId, receive, markDeleted, update]);

  const current = live.jobId === jobId ? live : emptyState(jobId);
  const fromProps = initial && initial.id === jobId ? initial : null;
  const job = fromProps ? newerJob(current.job, fromProps) : current.job;
  return { job, error: current.error, deleted: current.deleted, connection, receive, markDeleted };
}
