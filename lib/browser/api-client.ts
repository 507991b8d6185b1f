/**
 * The browser's calls to the app's own HTTP API: one fetch helper that turns every outcome
 * (an answer, an error answer, no answer) into a value the UI can show.
 */
import type { JobView } from '../domain/job';

export type ApiResult = { ok: true; status: number; body: unknown } | { ok: false; message: string };

const UNREACHABLE = 'Could not reach the server. Check your connection and try again.';

export async function callApi(path: string, init: RequestInit = {}): Promise<ApiResult> {
  let response: Response;
  try {
    response = await fetch(path, { ...init, headers: { Accept: 'application/json', ...init.headers } });
  } catch {
    return { ok: false, message: UNREACHABLE };
  }
  const body: unknown = response.status === 204 ? null : await response.json().catch(() => null);
  if (response.ok) return { ok: true, status: response.status, body };
  return { ok: false, message: apiMessage(body) ?? `The server answered ${response.status}. Try again in a moment.` };
}

/** The `message` of an `{"error": {"code", "message"}}` body, or null. */
export function apiMessage(body: unknown): string | null {
  if (typeof body !== 'object' || body === null || !('error' in body)) return null;
  const { error } = body;
  if (typeof error !== 'object' || error === null || !('message' in error)) return null;
  return typeof error.message === 'string' ? error.message : null;
}

export function isJobView(body: unknown): body is JobView {
  return typeof body === 'object' && body !== null && 'id' in body && typeof body.id === 'string' && 'version' in body;
}
