'use client';

import { useId, useRef, useState, type FormEvent } from 'react';
import { callApi, isJobView } from '@/lib/browser/api-client';
import type { JobView } from '@/lib/domain/job';
import { createJobSchema } from '@/lib/domain/job-input';

export interface JobFormProps {
  /** Called with the job the API created; the form is cleared for the next URL. */
  onCreated(job: JobView): void;
}

/** The URL form: checks the input with the API's own schema, then posts it to `/api/jobs`. */
export function JobForm({ onCreated }: JobFormProps) {
  const inputId = useId();
  const hintId = `${inputId}-hint`;
  const errorId = `${inputId}-error`;
  const inputRef = useRef<HTMLInputElement>(null);
  const [url, setUrl] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);

  async function handleSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (submitting) return;
    const input = createJobSchema.safeParse({ url });
    if (!input.success) {
      setError(input.error.issues[0]?.message ?? 'That is not a valid URL.');
      inputRef.current?.focus();
      return;
    }
    setError(null);
    setSubmitting(true);
    try {
      const result = await postJob(input.data.url);
      if ('error' in result) {
        setError(result.error);
      } else {
        setUrl('');
        onCreated(result.job);
      }
    } finally {
      setSubmitting(false);
      // The disabled button lost focus: put it back where the next URL (or the fix) goes.
      inputRef.current?.focus();
    }
  }

  return (
    <form className="job-form" onSubmit={handleSubmit} noValidate aria-busy={submitting}>
      <label htmlFor={inputId} className="job-form__label">
        File URL
      </label>
      <p id={hintId} className="job-form__hint">
        An http:// or https:// link to a file.
      </p>
      <div className="job-form__row">
        <input
          ref={inputRef}
          id={inputId}
          name="url"
          type="url"
          inputMode="url"
          autoComplete="off"
          spellCheck={false}
          placeholder="https://example.com/file.zip"
          className="job-form__input"
          value={url}
          onChange={(event) => setUrl(event.target.value)}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? `${errorId} ${hintId}` : hintId}
        />
        <button type="submit" className="button button--primary" disabled={submitting}>
          Download
        </button>
      </div>
      {/* Always in the page, so that screen readers announce the message when it appears. */}
      <p id={errorId} role="alert" aria-live="assertive" className="job-form__error">
        {error}
      </p>
      <p role="status" className="visually-hidden">
        {submitting ? 'Starting the download…' : ''}
      </p>
    </form>
  );
}

type PostResult = { job: JobView } | { error: string };

async function postJob(url: string): Promise<PostResult> {
  const result = await callApi('/api/jobs', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ url }),
  });
  if (!result.ok) return { error: result.message };
  return isJobView(result.body) ? { job: result.body } : { error: 'The server gave an answer this page cannot read. Try again.' };
}
