/**
 * The URL people see: the submitted one without credentials. The worker still downloads the
 * submitted URL, which only the stored document holds (see ./store).
 */
import { redactUrl } from '../infra/logger';

/** `https://user:secret@host/path` → `https://***@host/path`; a URL without credentials unchanged. */
export function publicUrl(url: string): string {
  const redacted = redactUrl(url);
  return typeof redacted === 'string' ? redacted : url;
}
