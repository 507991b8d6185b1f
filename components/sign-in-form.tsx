'use client';

import { useId, useRef, useState, type FormEvent } from 'react';
import { callApi } from '@/lib/browser/api-client';
import { signInSchema } from '@/lib/domain/sign-in-input';

export interface SignInFormProps {
  /** The app's own path to open once signed in. */
  next: string;
}

/** The access-token form: posts to `/api/session`, whose answer sets the session cookie. */
export function SignInForm({ next }: SignInFormProps) {
  const inputId = useId();
  const errorId = `${inputId}-error`;
  const inputRef = useRef<HTMLInputElement>(null);
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);

  async function handleSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (submitting) return;
    const input = signInSchema.safeParse({ token });
    if (!input.success) {
      setError(input.error.issues[0]?.message ?? 'Enter the access token.');
      inputRef.current?.focus();
      return;
    }
    setSubmitting(true);
    const result = await callApi('/api/session', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(input.data),
    });
    setSubmitting(false);
    if (result.ok) return window.location.assign(next);
    setError(result.message);
    inputRef.current?.focus();
  }

  return (
    <form className="job-form" onSubmit={handleSubmit} noValidate aria-busy={submitting}>
      <label htmlFor={inputId} className="job-form__label">
        Access token
      </label>
      <div className="job-form__row">
        <input
          ref={inputRef}
          id={inputId}
          name="token"
          type="password"
          autoComplete="current-password"
          className="job-form__input"
          value={token}
          onChange={(event) => setToken(event.target.value)}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? errorId : undefined}
        />
        <button type="submit" className="button button--primary" disabled={submitting}>
          Sign in
        </button>
      </div>
      <p id={errorId} role="alert" aria-live="assertive" className="job-form__error">
        {error}
      </p>
    </form>
  );
}
