/**
 * The one schema per input, shared by the form in the browser and the API on the server.
 */
import { z } from 'zod';
import type { ApiErrorCode } from './errors';

export const MAX_URL_LENGTH = 2048;
/** The most URLs one request may submit: `{"urls": [...]}`. */
export const MAX_BATCH_URLS = 100;

export const jobUrlSchema = z
  .string({ error: 'Enter the URL of a file to download.' })
  .trim()
  .min(1, 'Enter the URL of a file to download.')
  .max(MAX_URL_LENGTH, `The URL is longer than ${MAX_URL_LENGTH} characters.`)
  .refine((value) => URL.canParse(value), { message: 'That is not a valid URL.', abort: true })
  .refine((value) => {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  }, 'Only http:// and https:// URLs can be downloaded.');

/** The list is checked as a whole first, so 10,000 entries are refused before any is parsed. */
const jobUrlListSchema = z
  .array(z.unknown(), { error: 'Send "urls" as a list of URLs, like {"urls": ["https://…", "https://…"]}.' })
  .min(1, 'Send at least one URL.')
  .max(MAX_BATCH_URLS, `Send at most ${MAX_BATCH_URLS} URLs at once.`)
  .pipe(z.array(jobUrlSchema));

/** `{"url": "…"}` for one job, or `{"urls": ["…", …]}` for up to MAX_BATCH_URLS; never both. */
export const createJobSchema = z
  .object(
    { url: jobUrlSchema.optional(), urls: jobUrlListSchema.optional() },
    { error: 'Send a JSON object with the URL to download, like {"url": "https://…"}, or several, like {"urls": ["https://…"]}.' },
  )
  .superRefine(({ url, urls }, context) => {
    if (url === undefined && urls === undefined) {
      context.addIssue({ code: 'custom', path: ['url'], message: 'Enter the URL of a file to download.' });
    } else if (url !== undefined && urls !== undefined) {
      context.addIssue({ code: 'custom', path: [], message: 'Send either "url" or "urls", not both.' });
    }
  });
export type CreateJobInput = z.infer<typeof createJobSchema>;

/** The URLs a valid input asks for, in order. */
export function urlsOf(input: CreateJobInput): string[] {
  return input.urls ?? (input.url === undefined ? [] : [input.url]);
}

/** What is wrong with a body `createJobSchema` refused, for the API's answer and the form. */
export interface CreateJobProblem {
  code: Extract<ApiErrorCode, 'invalid_url' | 'invalid_request'>;
  /** The sentence about the entry (or the body) at fault, without saying which entry. */
  message: string;
  /** Which entry of `urls` is at fault, 0-based; null when it is not one entry. */
  index: number | null;
}

/** The first problem: a bad URL (`invalid_url`, with its entry for a batch) or a bad body. */
export function createJobProblem(error: z.ZodError): CreateJobProblem {
  const issue = error.issues[0];
  const [field, index] = issue?.path ?? [];
  const message = issue?.message ?? 'That is not a valid URL.';
  if (field === 'url') return { code: 'invalid_url', message, index: null };
  if (field === 'urls' && typeof index === 'number') return { code: 'invalid_url', message, index };
  return { code: 'invalid_request', message, index: null };
}

/** How the API names one entry of a batch in its messages: "URL 3 (urls[2]): …". */
export function entryMessage(index: number, message: string): string {
  return `URL ${index + 1} (urls[${index}]): ${message}`;
}

/** The entry and sentence of a message made by `entryMessage`; null for any other message. */
export function parseEntryMessage(message: string): { index: number; message: string } | null {
  const match = /^URL \d+ \(urls\[(\d+)\]\): (.*)$/s.exec(message);
  return match ? { index: Number(match[1]), message: match[2] } : null;
}

/** Job ids are UUID v4: random, 122 bits, not guessable. */
export const jobIdSchema = z.uuidv4();

export function isJobId(value: unknown): value is string {
  return jobIdSchema.safeParse(value).success;
}
