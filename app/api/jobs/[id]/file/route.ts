import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import contentDisposition from 'content-disposition';
import { parseByteRange } from '@/lib/server/byte-range';
import type { ServerContext } from '@/lib/server/context';
import { AppError } from '@/lib/domain/errors';
import { jobFilePath } from '@/lib/infra/job-files';
import { getJob } from '@/lib/server/job-service';
import { route } from '@/lib/server/route';

export const dynamic = 'force-dynamic';

/** GET /api/jobs/:id/file → the finished file, always as an attachment; Range supported. */
export const GET = route<{ id: string }>((context, request, { id }) => serveFile(context, request, id, true));

/** HEAD /api/jobs/:id/file → the same headers, no body. */
export const HEAD = route<{ id: string }>((context, request, { id }) => serveFile(context, request, id, false));

async function serveFile(context: ServerContext, request: Request, id: string, withBody: boolean): Promise<Response> {
  const job = await getJob(context, id);
  const filePath = job.status === 'completed' && job.fileName ? jobFilePath(context.config.dataDir, job.id, job.fileName) : null;
  const size = filePath ? await fileSize(filePath) : null;
  if (!filePath || size === null || !job.fileName || !job.sha256) {
    throw new AppError('file_not_ready');
  }

  // A finished file never changes: its hash is a strong validator.
  const etag = `"${job.sha256}"`;
  const headers = new Headers({
    'Content-Type': 'application/octet-stream',
    'Content-Disposition': contentDisposition(job.fileName, { type: 'attachment' }),
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': "default-src 'none'; sandbox",
    'Cache-Control': 'private, no-cache',
    'Accept-Ranges': 'bytes',
    ETag: etag,
  });
  const ifRange = request.headers.get('if-range');
  const range = ifRange && ifRange !== etag ? null : parseByteRange(request.headers.get('range'), size);
  if (range === 'unsatisfiable') {
    headers.set('Content-Range', `bytes */${size}`);
    return new Response(null, { status: 416, headers });
  }

  const { start, end } = range ?? { start: 0, end: size - 1 };
  headers.set('Content-Length', String(size === 0 ? 0 : end - start + 1));
  if (range) headers.set('Content-Range', `bytes ${start}-${end}/${size}`);
  const body = withBody && size > 0 ? (Readable.toWeb(createReadStream(filePath, { start, end })) as ReadableStream<Uint8Array>) : null;
  return new Response(body, { status: range ? 206 : 200, headers });
}

async function fileSize(filePath: string): Promise<number | null> {
  try {
    return (await stat(filePath)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
