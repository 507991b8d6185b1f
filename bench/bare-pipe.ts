/**
 * The least a downloader does, the reference of several scenarios: GET, hash with SHA-256 while
 * writing to a file; resolves the hash. `agent: false`: a connection of its own, as each of the
 * app's downloads has.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import http from 'node:http';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export function barePipe(url: string, file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (response) => {
        if (response.statusCode !== 200) {
          response.resume();
          return reject(new Error(`HTTP ${response.statusCode}`));
        }
        const hash = createHash('sha256');
        const hashing = new Transform({
          transform(chunk: Buffer, _encoding, done) {
            hash.update(chunk);
            done(null, chunk);
          },
        });
        pipeline(response, hashing, createWriteStream(file)).then(() => resolve(hash.digest('hex')), reject);
      })
      .on('error', reject);
  });
}
