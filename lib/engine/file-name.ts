/**
 * The name a downloaded file is stored under: from Content-Disposition (RFC 6266, with the
 * RFC 5987 `filename*` preferred), else the URL's last path segment, made safe to use as one
 * file name inside a directory on any common file system.
 */
import contentDisposition from 'content-disposition';

export const FALLBACK_FILE_NAME = 'download';
const MAX_BYTES = 200;
/** An extension longer than this is treated as part of the name when shortening. */
const MAX_EXTENSION_BYTES = 32;

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
/** Bidirectional overrides and invisible marks, used to disguise extensions (`txt.exe`). */
const INVISIBLE = /[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;
/** Path separators and characters Windows refuses in names. */
const UNSAFE = /[/\\<>:"|?*]/g;
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\.|$)/i;

export interface FileNameSource {
  contentDisposition?: string | null;
  url: URL;
}

/** Picks and sanitizes the file name; never throws, never returns an unusable name. */
export function fileNameFrom({ contentDisposition: header, url }: FileNameSource): string {
  const candidates = [nameFromHeader(header), nameFromUrl(url)];
  for (const candidate of candidates) {
    const name = candidate === null ? '' : sanitizeFileName(candidate);
    if (name !== '') return name;
  }
  return FALLBACK_FILE_NAME;
}

function nameFromHeader(header: string | null | undefined): string | null {
  if (!header) return null;
  try {
    return contentDisposition.parse(header).parameters.filename ?? null;
  } catch {
    return null; // a malformed header counts as absent: the URL names the file instead
  }
}

function nameFromUrl(url: URL): string | null {
  const segment = url.pathname.split('/').pop() ?? '';
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment; // a stray `%` is kept as typed
  }
}

/** Makes `raw` a safe single file name, or returns '' when nothing usable is left. */
export function sanitizeFileName(raw: string): string {
  let name = raw
    .normalize('NFC')
    .replace(CONTROL, '')
    .replace(INVISIBLE, '')
    .replace(UNSAFE, '_')
    .trim()
    .replace(/^\.+/, '')
    .replace(/[. ]+$/, '');
  if (name === '') return '';
  if (WINDOWS_RESERVED.test(name)) name = `_${name}`;
  return truncate(name);
}

function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** Shortens to MAX_BYTES of UTF-8, whole characters only, keeping a short extension. */
function truncate(name: string): string {
  if (byteLength(name) <= MAX_BYTES) return name;
  const dot = name.lastIndexOf('.');
  const extension = dot > 0 && byteLength(name.slice(dot)) <= MAX_EXTENSION_BYTES ? name.slice(dot) : '';
  let budget = MAX_BYTES - byteLength(extension);
  let stem = '';
  for (const char of name.slice(0, name.length - extension.length)) {
    budget -= byteLength(char);
    if (budget < 0) break;
    stem += char;
  }
  return stem.replace(/[. ]+$/, '') + extension;
}
