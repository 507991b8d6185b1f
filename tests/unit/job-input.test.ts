import { describe, expect, it } from '@jest/globals';
import { createJobSchema, isJobId, MAX_URL_LENGTH } from '../../lib/domain/job-input';

const messageFor = (body: unknown) => {
  const result = createJobSchema.safeParse(body);
  return result.success ? null : result.error.issues[0]?.message;
};

describe('the create-job input', () => {
  it('accepts http and https URLs', () => {
    expect(createJobSchema.parse({ url: 'https://files.invalid/a.iso' })).toEqual({ url: 'https://files.invalid/a.iso' });
    expect(createJobSchema.parse({ url: 'http://files.invalid/' }).url).toBe('http://files.invalid/');
  });

  it('trims the spaces a paste brings along', () => {
    expect(createJobSchema.parse({ url: '  https://files.invalid/a  ' }).url).toBe('https://files.invalid/a');
  });

  it('asks for a URL when there is none', () => {
    expect(messageFor({})).toMatch(/Enter the URL/);
    expect(messageFor({ url: '' })).toMatch(/Enter the URL/);
    expect(messageFor({ url: 42 })).toMatch(/Enter the URL/);
  });

  it('refuses what is not a URL', () => {
    expect(messageFor({ url: 'not a url' })).toBe('That is not a valid URL.');
  });

  it('refuses schemes other than http and https', () => {
    for (const url of ['ftp://files.invalid/a', 'file:///etc/passwd', 'javascript:alert(1)', 'data:text/plain,hi']) {
      expect(messageFor({ url })).toBe('Only http:// and https:// URLs can be downloaded.');
    }
  });

  it(`refuses URLs over ${MAX_URL_LENGTH} characters and accepts one of exactly that length`, () => {
    const base = 'https://files.invalid/';
    expect(messageFor({ url: base + 'a'.repeat(MAX_URL_LENGTH - base.length) })).toBeNull();
    expect(messageFor({ url: base + 'a'.repeat(MAX_URL_LENGTH - base.length + 1) })).toMatch(/longer than 2048/);
  });

  it('refuses a body that is not an object', () => {
    expect(messageFor(['https://files.invalid'])).toMatch(/JSON object/);
    expect(messageFor(null)).toMatch(/JSON object/);
  });
});

describe('job ids', () => {
  it('are UUID v4', () => {
    expect(isJobId('3b241101-e2bb-4255-8caf-4136c566a962')).toBe(true);
  });

  it('refuse anything else', () => {
    for (const id of ['', '42', '3b241101-e2bb-1255-8caf-4136c566a962', '../../etc/passwd', 42, null, { $ne: 1 }]) {
      expect(isJobId(id)).toBe(false);
    }
  });
});
