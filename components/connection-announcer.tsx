'use client';

import { useEffect, useState } from 'react';
import { useConnectionStatus } from '@/hooks/use-connection-status';

const MESSAGES = {
  connecting: '',
  reconnecting: 'Connection lost. Reconnecting…',
  connected: 'Connected again.',
} as const;

/**
 * The page's one live region for the tab's connection. Each card shows the connection too,
 * but as plain text: a live region per card would say every change once per card. Silent on
 * the first connect; it speaks when the connection is lost and when it is back.
 */
export function ConnectionAnnouncer() {
  const connection = useConnectionStatus();
  const [lostOnce, setLostOnce] = useState(false);
  useEffect(() => {
    if (connection === 'reconnecting') setLostOnce(true);
  }, [connection]);

  return (
    <p role="status" className="visually-hidden" data-testid="connection-announcer">
      {lostOnce ? MESSAGES[connection] : ''}
    </p>
  );
}
