'use client';

import { useEffect, useState } from 'react';
import { useConnectionStatus } from '@/hooks/use-connection-status';

/**
 * The page's one live region for the tab's connection. Each card shows the connection too,
 * but as plain text: a live region per card would say every change once per card. Silent on
 * the first connect; it speaks when the connection is lost and when it is back.
 */
export function ConnectionAnnouncer() {
  const connection = useConnectionStatus();
  const [history, setHistory] = useState({ connected: false, lost: false });

  useEffect(() => {
    setHistory((seen) => {
      if (connection === 'connected') return seen.connected ? seen : { ...seen, connected: true };
      return seen.connected && !seen.lost ? { ...seen, lost: true } : seen;
    });
  }, [connection]);

  const message = !history.lost ? '' : connection === 'connected' ? 'Connected again.' : 'Connection lost. Reconnecting…';
  return (
    <p role="status" className="visually-hidden" data-testid="connection-announcer">
      {message}
    </p>
  );
}
