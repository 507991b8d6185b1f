/**
 * CLI: `tsx scripts/services/build-ferretdb.ts`. Builds the embedded MongoDB-wire server ahead of
 * time so the slow first build shows up as its own step, not as a timeout inside the tests, and
 * readies the embedded PostgreSQL's binaries under it (their symlinks, if npm skipped the
 * package's install script). Idempotent. Skipped when it will not be used: MONGODB_URI is set,
 * or a `mongod` is on PATH.
 */
import { buildFerretDB } from './mongo';
import { postgresVersion } from './postgres';
import { findExecutable } from './process';

if (process.env.MONGODB_URI) {
  console.log('MONGODB_URI is set: FerretDB not needed.');
} else if (findExecutable('mongod')) {
  console.log('mongod found on PATH: FerretDB not needed.');
} else {
  try {
    console.log(`FerretDB ready: ${await buildFerretDB()}`);
  } catch (err) {
    console.error((err as Error).message);
    process.exit(1);
  }
  // Not fatal: without it FerretDB runs over SQLite, and ensureMongo says why when it starts.
  try {
    console.log(`Embedded PostgreSQL ready: ${postgresVersion()}`);
  } catch (err) {
    console.warn(`Embedded PostgreSQL not available (${(err as Error).message.split('\n')[0]}); FerretDB will use SQLite.`);
  }
}
