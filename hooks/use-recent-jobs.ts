'use client';

import { useCallback, useEffect, useState } from 'react';
import { z } from 'zod';
import { jobIdSchema, MAX_BATCH_URLS } from '@/lib/domain/job-input';

/** Where this browser keeps the ids of the downloads started in it, newest first. */
export const RECENT_JOBS_KEY = 'live-downloader:recent-jobs';
/**
 * Older ones drop off the list; their pages still work for whoever has the link. As many as
 * one submit may start, so a whole batch shows.
 */
export const MAX_RECENT_JOBS = MAX_BATCH_URLS;

const storedIdsSchema = z.array(jobIdSchema).max(MAX_RECENT_JOBS);

/** The stored ids; anything else (another app's data, a hand edit) reads as none. */
function readIds(raw: string | null): string[] {
  if (raw === null) return [];
  try {
    const parsed = storedIdsSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : [];
  } catch {
    return []; // not JSON
  }
}

function storage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null; // blocked (private mode, policies): the list lives only as long as the tab
  }
}

/** Stores `ids`; false if the browser would not (storage full or blocked). */
function save(ids: string[]): boolean {
  try {
    storage()?.setItem(RECENT_JOBS_KEY, JSON.stringify(ids.slice(0, MAX_RECENT_JOBS)));
    return true;
  } catch {
    return false;
  }
}

export interface RecentJobs {
  /** Newest first; empty until mounted, so the server render and the first client one agree. */
  ids: string[];
  /** Puts new downloads first, in the order given. */
  add(...ids: string[]): void;
  /**
   * Drops an id that names no download any more (deleted, or gone from the server) from the
   * stored list. This tab keeps showing its card, which says why, until it is reloaded.
   */
  forget(id: string): void;
}

/**
 * The downloads started in this browser, kept across reloads and shared by its tabs: a job
 * submitted in one tab shows in every other open home page.
 */
export function useRecentJobs(): RecentJobs {
  const [ids, setIds] = useState<string[]>([]);

  useEffect(() => {
    setIds(readIds(storage()?.getItem(RECENT_JOBS_KEY) ?? null));
    // Fired by the other tabs' writes only. Their new downloads join this list; a card this tab
    // shows stays until reloaded, so one deleted elsewhere still says so here.
    const onStorage = (event: StorageEvent) => {
      if (event.key !== RECENT_JOBS_KEY) return;
      const incoming = readIds(event.newValue);
      setIds((previous) => [...incoming, ...previous.filter((id) => !incoming.includes(id))]);
    };
    window.addEventListener('storage', onStorage);
    return () => window.removeEventListener('storage', onStorage);
  }, []);

  const add = useCallback((...added: string[]) => {
    setIds((previous) => {
      const next = [...added, ...previous.filter((known) => !added.includes(known))].slice(0, MAX_RECENT_JOBS);
      save(next);
      return next;
    });
  }, []);
  const forget = useCallback((id: string) => {
    save(readIds(storage()?.getItem(RECENT_JOBS_KEY) ?? null).filter((known) => known !== id));
  }, []);
  return { ids, add, forget };
}
