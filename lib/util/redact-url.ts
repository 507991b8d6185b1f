/**
 * URLs may carry credentials (`https://user:secret@host/`): what people see and what logs keep
 * never does. The worker still downloads the submitted URL, which only the stored document holds.
 */

/** `https://user:secret@host/path` → `https://***@host/path`; anything else unchanged. */
export function redactUrl(value: unknown): unknown {
  if (typeof value !== 'string' || !URL.canParse(value)) return value;
  const url = new URL(value);
  if (!url.username && !url.password) return value;
  url.username = '***';
  url.password = '';
  return url.toString();
}

/** The URL people see: the submitted one without credentials. */
export function publicUrl(url: string): string {
  const redacted = redactUrl(url);
  return typeof redacted === 'string' ? redacted : url;
}

/**
 * The URL as people other than the job's owner see it: `https://host/path?…`. Presigned links
 * carry their secret in the query (some in the fragment), so only the owner sees those.
 */
export function withoutQuery(url: string): string {
  if (!URL.canParse(url)) return url;
  const parsed = new URL(url);
  if (!parsed.search && !parsed.hash) return url;
  parsed.search = '';
  parsed.hash = '';
  return `${parsed.toString()}?…`;
}
