'use client';

import { useId, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { callApi, isJobView } from '@/lib/browser/api-client';
import type { JobView } from '@/lib/domain/job';
import { createJobProblem, createJobSchema, MAX_BATCH_URLS, parseEntryMessage } from '@/lib/domain/job-input';

export interface JobFormProps {
  /** Called with the jobs the API created, in the order of their lines; the form is cleared for the next URLs. */
  onCreated(jobs: JobView[]): void;
}

/** A URL typed or pasted in the box, and the line it is on (1-based). */
interface Entry {
  line: number;
  url: string;
}

/** The box's non-blank lines. */
function entriesOf(text: string): Entry[] {
  return text.split(/\r\n|\r|\n/).flatMap((url, n) => (url.trim() === '' ? [] : [{ line: n + 1, url }]));
}

/** One URL goes as `{"url"}`, as it always has; several as `{"urls"}`, all or none. */
function bodyOf(entries: Entry[]) {
  return entries.length > 1 ? { urls: entries.map((entry) => entry.url) } : { url: entries[0]?.url ?? '' };
}

/** The tallest the box grows before it scrolls. */
const MAX_ROWS = 6;

/**
 * The URL form: one URL per line (Enter submits, Shift+Enter starts a line, a paste of several
 * lines works), checked with the API's own schema, then posted to `/api/jobs` in one request.
 * An error about one URL names its line.
 */
export function JobForm({ onCreated }: JobFormProps) {
  const inputId = useId();
  const hintId = `${inputId}-hint`;
  const errorId = `${inputId}-error`;
  const inputRef = useRef<HTMLTextAreaElement>(null);
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState<number | null>(null);
  const [started, setStarted] = useState('');

  async function handleSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (submitting !== null) return;
    const entries = entriesOf(text);
    const refuse = (message: string) => {
      setError(message);
      inputRef.current?.focus();
    };
    if (entries.length > MAX_BATCH_URLS) {
      return refuse(`Enter at most ${MAX_BATCH_URLS} URLs at once; there are ${entries.length}.`);
    }
    const body = bodyOf(entries);
    const input = createJobSchema.safeParse(body);
    if (!input.success) {
      const { message, index } = createJobProblem(input.error);
      return refuse(index === null ? message : `Line ${entries[index].line}: ${message}`);
    }
    setError(null);
    setStarted('');
    setSubmitting(entries.length);
    try {
      const result = await postJobs(body);
      if ('error' in result) {
        // The API names a batch's entry by its place in the list: say which line that is.
        const entry = parseEntryMessage(result.error);
        setError(entry && entries[entry.index] ? `Line ${entries[entry.index].line}: ${entry.message}` : result.error);
      } else {
        setText('');
        setStarted(result.jobs.length === 1 ? 'Download started.' : `${result.jobs.length} downloads started.`);
        onCreated(result.jobs);
      }
    } finally {
      setSubmitting(null);
      // The disabled button lost focus: put it back where the next URL (or the fix) goes.
      inputRef.current?.focus();
    }
  }

  function handleKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    // Enter submits, as in a one-line field; Shift+Enter (and an input method's Enter) does not.
    if (event.key !== 'Enter' || event.shiftKey || event.nativeEvent.isComposing) return;
    event.preventDefault();
    event.currentTarget.form?.requestSubmit();
  }

  const lines = text.split('\n').length;
  return (
    <form className="job-form" onSubmit={handleSubmit} noValidate aria-busy={submitting !== null}>
      <label htmlFor={inputId} className="job-form__label">
        File URL
      </label>
      <p id={hintId} className="job-form__hint">
        An http:// or https:// link to a file. For several, put one per line (Shift+Enter, or paste them), up to {MAX_BATCH_URLS}.
      </p>
      <div className="job-form__row">
        <textarea
          ref={inputRef}
          id={inputId}
          name="url"
          rows={Math.min(lines, MAX_ROWS)}
          wrap="off"
          inputMode="url"
          enterKeyHint="go"
          autoComplete="off"
          autoCapitalize="off"
          spellCheck={false}
          placeholder="https://example.com/file.zip"
          className="job-form__input"
          value={text}
          onChange={(event) => {
            setText(event.target.value);
            setStarted('');
          }}
          onKeyDown={handleKeyDown}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? `${errorId} ${hintId}` : hintId}
        />
        <button type="submit" className="button button--primary" disabled={submitting !== null}>
          Download
        </button>
      </div>
      {/* Always in the page, so that screen readers announce the message when it appears. */}
      <p id={errorId} role="alert" aria-live="assertive" className="job-form__error">
        {error}
      </p>
      <p role="status" className="visually-hidden">
        {submitting === null ? started : submitting > 1 ? `Starting ${submitting} downloads…` : 'Starting the download…'}
      </p>
    </form>
  );
}

type PostResult = { jobs: JobView[] } | { error: string };

const UNREADABLE = 'The server gave an answer this page cannot read. Try again.';

async function postJobs(body: ReturnType<typeof bodyOf>): Promise<PostResult> {
  const result = await callApi('/api/jobs', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!result.ok) return { error: result.message };
  if ('url' in body) return isJobView(result.body) ? { jobs: [result.body] } : { error: UNREADABLE };
  const jobs: unknown = typeof result.body === 'object' && result.body !== null && 'jobs' in result.body ? result.body.jobs : null;
  return Array.isArray(jobs) && jobs.every(isJobView) ? { jobs } : { error: UNREADABLE };
}
