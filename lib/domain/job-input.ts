/**
 * The one schema per input, shared by the form in the browser and the API on the server.
 */
import { z } from 'zod';

export const MAX_URL_LENGTH = 2048;

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

export const createJobSchema = z.object(
  { url: jobUrlSchema },
  { error: 'Send a JSON object with the URL to download, like {"url": "https://…"}.' },
);
export type CreateJobInput = z.infer<typeof createJobSchema>;

/** Job ids are UUID v4: random, 122 bits, not guessable. */
export const jobIdSchema = z.uuidv4();

export function isJobId(value: unknown): value is string {
  return jobIdSchema.safeParse(value).success;
}
