/**
 * CLI: `tsx scripts/services/build-ferretdb.ts`. Builds the embedded MongoDB-wire server ahead of
 * time so the slow first build shows up as its own step, not as a timeout inside the tests.
 * Skipped when it will not be used: MONGODB_URI is set, or a `mongod` is on PATH.
 */
import { buildFerretDB } from './mongo';
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
}
