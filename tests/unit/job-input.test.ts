import { describe, expect, it } from '@jest/globals';
import { createJobProblem, createJobSchema, entryMessage, isJobId, MAX_BATCH_URLS, MAX_URL_LENGTH, parseEntryMessage, urlsOf } from '../../lib/domain/job-input';

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

describe('the create-job input with several URLs', () => {
  const problemFor = (body: unknown) => {
    const result = createJobSchema.safeParse(body);
    return result.success ? null : createJobProblem(result.error);
  };

  it('takes 1 to MAX_BATCH_URLS URLs, trimmed, in order', () => {
    const input = createJobSchema.parse({ urls: [' https://files.invalid/a ', 'http://files.invalid/b'] });
    expect(urlsOf(input)).toEqual(['https://files.invalid/a', 'http://files.invalid/b']);
    expect(urlsOf(createJobSchema.parse({ url: 'https://files.invalid/c' }))).toEqual(['https://files.invalid/c']);
    expect(problemFor({ urls: Array(MAX_BATCH_URLS).fill('https://files.invalid/a') })).toBeNull();
  });

  it('names the first entry at fault', () => {
    expect(problemFor({ urls: ['https://files.invalid/a', 'nope', 'ftp://files.invalid/b'] })).toEqual({
      code: 'invalid_url',
      message: 'That is not a valid URL.',
      index: 1,
    });
    expect(problemFor({ urls: ['https://files.invalid/a', 42] })).toMatchObject({ code: 'invalid_url', index: 1 });
  });

  it('refuses a list that is empty, too long or not a list, and both shapes at once, as a bad request', () => {
    expect(problemFor({ urls: [] })).toMatchObject({ code: 'invalid_request', index: null });
    // Refused as a whole, before any entry is looked at.
    expect(problemFor({ urls: Array(MAX_BATCH_URLS + 1).fill('nope') })).toEqual({ code: 'invalid_request', message: `Send at most ${MAX_BATCH_URLS} URLs at once.`, index: null });
    expect(problemFor({ urls: 'https://files.invalid/a' })).toMatchObject({ code: 'invalid_request' });
    expect(problemFor({ url: 'https://files.invalid/a', urls: ['https://files.invalid/b'] })).toMatchObject({ code: 'invalid_request', message: expect.stringMatching(/not both/) });
  });

  it('says which entry a message is about in a form that can be read back', () => {
    const message = entryMessage(2, 'That is not a valid URL.');
    expect(message).toBe('URL 3 (urls[2]): That is not a valid URL.');
    expect(parseEntryMessage(message)).toEqual({ index: 2, message: 'That is not a valid URL.' });
    expect(parseEntryMessage('That is not a valid URL.')).toBeNull();
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
