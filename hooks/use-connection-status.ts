'use client';

import { useSyncExternalStore } from 'react';
import { getSocket, isLivePaused } from '@/lib/browser/socket';

/**
 * The tab's socket: `connecting` until its first connect, `connected` while it is up, and
 * `reconnecting` once it was lost (it comes back by itself), or while the server says it cannot
 * hear the workers (`live:paused`).
 */
export type ConnectionStatus = 'connecting' | 'connected' | 'reconnecting';

/** Whether the tab's socket was ever up: from then on, down means lost. */
let everConnected = false;

function subscribe(onChange: () => void): () => void {
  const socket = getSocket();
  socket.on('connect', onChange);
  socket.on('disconnect', onChange);
  socket.on('live:paused', onChange);
  socket.on('live:resumed', onChange);
  return () => {
    socket.off('connect', onChange);
    socket.off('disconnect', onChange);
    socket.off('live:paused', onChange);
    socket.off('live:resumed', onChange);
  };
}

function getSnapshot(): ConnectionStatus {
  if (getSocket().connected) {
    everConnected = true;
    return isLivePaused() ? 'reconnecting' : 'connected';
  }
  return everConnected ? 'reconnecting' : 'connecting';
}

// The server holds no socket: the page is rendered as not connected yet, then hydrates.
const getServerSnapshot = (): ConnectionStatus => 'connecting';

/** The state of the tab's one socket, following its connect and disconnect events. */
export function useConnectionStatus(): ConnectionStatus {
  return useSyncExternalStore(subscribe, getSnapshot, getServerSnapshot);
}
