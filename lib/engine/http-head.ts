/**
 * The heads of the engine's HTTP/1.1 exchange: the GET it sends, and the status line and header
 * fields of the answer. Reading is lenient where a client can afford it (bare LF line ends,
 * folded lines) and strict where a wrong reading would corrupt the file (the body's length).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { DownloadError } from './errors';

export const USER_AGENT = 'live-downloader/0.1';

export interface ResponseHead {
  status: number;
  /** Names in lower case; repeated fields joined with `, ` (Set-Cookie kept as a list). */
  headers: IncomingHttpHeaders;
}

/** Fields a response has once: a repeat is dropped, as Node's own client does. */
const SINGLE = new Set(['content-type', 'content-range', 'content-disposition', 'etag', 'last-modified', 'location', 'retry-after', 'server', 'age', 'expires']);

/**
 * RFC 9112 5.1: a token, the colon right after it (whitespace before it is refused), then the
 * value. The value is trimmed in code: a pattern that trimmed it too would backtrack
 * quadratically on a long run of blanks.
 */
const FIELD = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):(.*)$/;
const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?:[ \t].*)?$/;
/**
 * RFC 9110 5.5 and RFC 9112 2.2: a NUL, or a CR that does not end a line, is refused rather
 * than read one way here and another way by whatever else sees the same bytes.
 */
const FORBIDDEN = /\0|\r(?!\n)/;

/** Whether `line` has the form of a header (or trailer) field line. */
export function isFieldLine(line: string): boolean {
  return FIELD.test(line) && !FORBIDDEN.test(line);
}

/** `value` without the spaces and tabs around it (optional whitespace, RFC 9110 5.6.3). */
function trimmed(value: string): string {
  const blank = (at: number) => value[at] === ' ' || value[at] === '\t';
  let start = 0;
  let end = value.length;
  while (start < end && blank(start)) start++;
  while (end > start && blank(end - 1)) end--;
  return value.slice(start, end);
}

function decoded(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part; // a stray `%` is sent as typed
  }
}

/** The request for `url`: a GET on a connection of its own, with `headers` added. */
export function requestHead(url: URL, headers: Record<string, string>): string {
  const fields: Record<string, string> = { Host: url.host, 'User-Agent': USER_AGENT, 'Accept-Encoding': 'identity', Accept: '*/*', Connection: 'close' };
  if (url.username) fields.Authorization = `Basic ${Buffer.from(`${decoded(url.username)}:${decoded(url.password)}`).toString('base64')}`;
  Object.assign(fields, headers);
  const lines = Object.entries(fields).map(([name, value]) => {
    // A value that ends the line would let whatever follows pass for a header of its own.
    if (/[\r\n\0]/.test(`${name}${value}`)) throw new DownloadError('network_error', 'A request header held a character that cannot be sent.');
    return `${name}: ${value}\r\n`;
  });
  return `GET ${url.pathname}${url.search} HTTP/1.1\r\n${lines.join('')}\r\n`;
}

export function malformed(host: string, what: string): DownloadError {
  return new DownloadError('network_error', `The server at ${host} sent ${what}.`);
}

/**
 * Where the head ends in `bytes` (the index just past its empty line), or -1 if not yet. A line
 * ends at LF, with or without a CR before it (RFC 9112 2.2), so the empty line may follow either.
 */
export function headEnd(bytes: Buffer): number {
  const lf = bytes.indexOf('\n\n');
  const crlf = bytes.indexOf('\n\r\n');
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return crlf + 3;
  return lf >= 0 ? lf + 2 : -1;
}

/**
 * The one length every Content-Length field and list member states. RFC 9110 8.6 lets a
 * recipient take `42, 42` as 42; differing values leave the body's end unknown (RFC 9112 6.3).
 */
function singleLength(values: string[], host: string): string {
  const members = values.flatMap((value) => value.split(',')).map(trimmed);
  if (members.some((member) => member !== members[0])) throw malformed(host, 'two different lengths');
  return members[0];
}

/** Parses a whole head (the bytes before its empty line); throws a DownloadError naming `host`. */
export function parseHead(head: Buffer, host: string): ResponseHead {
  const text = head.toString('latin1');
  if (FORBIDDEN.test(text)) throw malformed(host, 'a header holding a NUL or a bare CR');
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const statusLine = STATUS_LINE.exec(lines[0] ?? '');
  if (!statusLine) throw malformed(host, 'an answer that is not HTTP/1.x');
  const status = Number(statusLine[2]);
  if (status < 100 || status > 599) throw malformed(host, `the status ${statusLine[2]}, which is outside 100-599`);

  // Unfolded first: an obsolete folded line (RFC 9112 5.2) continues the line above it, joined by a space.
  const fields: [name: string, value: string][] = [];
  for (const line of lines.slice(1)) {
    const last = fields[fields.length - 1];
    if (/^[ \t]/.test(line) && last) {
      last[1] = trimmed(`${last[1]} ${trimmed(line)}`);
      continue;
    }
    const field = FIELD.exec(line);
    if (!field) throw malformed(host, 'a malformed header');
    fields.push([field[1].toLowerCase(), trimmed(field[2])]);
  }

  // No prototype: the server names the fields, and `constructor` or `__proto__` is just a name.
  const headers: IncomingHttpHeaders = Object.create(null);
  const lengths: string[] = [];
  for (const [name, value] of fields) {
    const before = headers[name];
    if (name === 'content-length') lengths.push(value);
    else if (name === 'set-cookie') headers[name] = [...((before as string[] | undefined) ?? []), value];
    else if (before === undefined) headers[name] = value;
    else if (!SINGLE.has(name)) headers[name] = `${before as string}, ${value}`;
  }
  if (headers['transfer-encoding'] !== undefined) {
    // Transfer-Encoding is HTTP/1.1's: in a 1.0 answer the framing is faulty (RFC 9112 6.1).
    if (statusLine[1] === '0') throw malformed(host, 'Transfer-Encoding in an HTTP/1.0 answer');
    // It overrides Content-Length (RFC 9112 6.3), which then says nothing about this body.
  } else if (lengths.length > 0) {
    headers['content-length'] = singleLength(lengths, host);
  }
  return { status, headers };
}
