'use client';

import { useSyncExternalStore } from 'react';
import { getSocket } from '@/lib/realtime/client';

/** Whether the tab's socket is up; before the first connect it counts as reconnecting. */
export type ConnectionStatus = 'connected' | 'reconnecting';

function subscribe(onChange: () => void): () => void {
  const socket = getSocket();
  socket.on('connect', onChange);
  socket.on('disconnect', onChange);
  return () => {
    socket.off('connect', onChange);
    socket.off('disconnect', onChange);
  };
}

const getSnapshot = (): ConnectionStatus => (getSocket().connected ? 'connected' : 'reconnecting');

// The server holds no socket: the page is rendered as not connected yet, then hydrates.
const getServerSnapshot = (): ConnectionStatus => 'reconnecting';

/** The state of the tab's one socket, following its connect and disconnect events. */
export function useConnectionStatus(): ConnectionStatus {
  return useSyncExternalStore(subscribe, getSnapshot, getServerSnapshot);
}
