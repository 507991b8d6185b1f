/**
 * Runs the download engine in a process of its own, for tests that must start it with a setting
 * only a new process reads, such as NODE_EXTRA_CA_CERTS (a certificate authority made for the
 * test, trusted beside the system's). Run with `node --import tsx`; arguments: a directory, then
 * URLs. Every host name resolves to 127.0.0.1, and private addresses are allowed. Prints one
 * JSON line per URL, in order: the DownloadResult, or `{ error: { code, message, retryable } }`.
 */
import type { LookupFunction } from 'node:net';
import path from 'node:path';
import { downloadToFile } from '../../lib/engine/download';
import { toDownloadError } from '../../lib/engine/errors';

const loopback: LookupFunction = (_hostname, options, callback) => {
  if (options.all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
  else callback(null, '127.0.0.1', 4);
};

const [directory, ...urls] = process.argv.slice(2);
for (const [index, url] of urls.entries()) {
  // A directory per download, as per job: the engine keeps one partial file's note per directory.
  const options = { url, directory: path.join(directory, String(index)), allowPrivateAddresses: true, lookup: loopback };
  const line = await downloadToFile(options).then(
    (result) => result as object,
    (err: unknown) => {
      const { code, message, retryable } = toDownloadError(err);
      return { error: { code, message, retryable } };
    },
  );
  process.stdout.write(`${JSON.stringify(line)}\n`);
}
