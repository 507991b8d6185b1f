import { describe, expect, it } from '@jest/globals';
import { fileNameFrom, sanitizeFileName } from '../../lib/engine/file-name';

const url = (raw: string) => new URL(raw);
const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

describe('when the response has a Content-Disposition file name', () => {
  it('uses it instead of the URL', () => {
    expect(fileNameFrom({ contentDisposition: 'attachment; filename="report.pdf"', url: url('https://x.test/dl?id=1') })).toBe('report.pdf');
  });

  it('prefers the RFC 5987 filename* over the plain one', () => {
    const header = `attachment; filename="resume.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%F0%9F%93%84.pdf`;
    expect(fileNameFrom({ contentDisposition: header, url: url('https://x.test/a') })).toBe('résumé 📄.pdf');
  });

  it('keeps a path-like name inside the directory', () => {
    const header = `attachment; filename*=UTF-8''..%2F..%2Fetc%2Fpasswd`;
    const name = fileNameFrom({ contentDisposition: header, url: url('https://x.test/a') });
    expect(name).toBe('_.._etc_passwd');
    expect(name).not.toMatch(/[/\\]/);
  });

  it('falls back to the URL when the header is malformed', () => {
    for (const header of ['attachment; filename=two words.txt', ';;;', 'attachment; filename="a"; filename="b"', '=']) {
      expect(fileNameFrom({ contentDisposition: header, url: url('https://x.test/files/data.csv') })).toBe('data.csv');
    }
  });

  it('falls back to the URL when the header has no file name or only dots', () => {
    expect(fileNameFrom({ contentDisposition: 'inline', url: url('https://x.test/img.png') })).toBe('img.png');
    expect(fileNameFrom({ contentDisposition: 'attachment; filename=".."', url: url('https://x.test/img.png') })).toBe('img.png');
  });
});

describe('when only the URL names the file', () => {
  it('uses the last path segment, decoded', () => {
    expect(fileNameFrom({ url: url('https://x.test/a/b/My%20File%20%C3%A9.tar.gz?x=1#frag') })).toBe('My File é.tar.gz');
  });

  it('turns an encoded slash into an underscore', () => {
    expect(fileNameFrom({ url: url('https://x.test/a%2F..%2Fb.txt') })).toBe('a_.._b.txt');
  });

  it('keeps a segment that is not valid percent-encoding as typed', () => {
    expect(fileNameFrom({ url: url('https://x.test/100%25%zz.txt') })).toBe('100%25%zz.txt');
  });

  it("answers 'download' when there is no segment or nothing usable is left", () => {
    for (const raw of ['https://x.test/', 'https://x.test', 'https://x.test/dir/', 'https://x.test/..%2e', 'https://x.test/%00%01']) {
      expect(fileNameFrom({ url: url(raw), contentDisposition: null })).toBe('download');
    }
  });
});

describe('sanitizeFileName', () => {
  it.each([
    ['a/b\\c.txt', 'a_b_c.txt'],
    ['../../x', '_.._x'],
    ['...hidden', 'hidden'],
    ['name. . .', 'name'],
    ['  spaced  ', 'spaced'],
    ['tab\there\u0000.txt', 'tabhere.txt'],
    ['bell\u0007\u007f\u0085.txt', 'bell.txt'],
    ['invoice\u202Efdp.exe', 'invoicefdp.exe'],
    ['what?<x>:"y"|*.txt', 'what__x___y___.txt'],
    ['CON', '_CON'],
    ['nul.txt', '_nul.txt'],
    ['com1.log', '_com1.log'],
    ['LPT9', '_LPT9'],
    ['console.txt', 'console.txt'],
    ['e\u0301.txt', 'é.txt'],
    ['.', ''],
    ['..', ''],
    ['', ''],
  ])('%p becomes %p', (raw, expected) => {
    expect(sanitizeFileName(raw)).toBe(expected);
  });

  it('bounds the name to 200 bytes of UTF-8 and keeps the extension', () => {
    const name = sanitizeFileName(`${'a'.repeat(300)}.tar.gz`);
    expect(bytes(name)).toBeLessThanOrEqual(200);
    expect(name).toMatch(/^a+\.gz$/);
    expect(bytes(name)).toBe(200);
  });

  it('never cuts a multi-byte character in half', () => {
    const name = sanitizeFileName(`${'é'.repeat(150)}📄.pdf`);
    expect(bytes(name)).toBeLessThanOrEqual(200);
    expect(name.endsWith('.pdf')).toBe(true);
    expect(name).toBe(`${'é'.repeat(98)}.pdf`);
    expect(Buffer.from(name, 'utf8').toString('utf8')).toBe(name);
  });

  it('treats an overlong "extension" as part of the name', () => {
    const name = sanitizeFileName(`x.${'b'.repeat(250)}`);
    expect(bytes(name)).toBe(200);
    expect(name.startsWith('x.b')).toBe(true);
  });
});
