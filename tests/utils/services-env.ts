/**
 * Addresses of the services that tests/utils/global-setup.ts prepared for this jest run.
 * Each test file should use its own database (and Redis key prefix): the servers are shared.
 */

function required(name: 'TEST_REDIS_URL' | 'TEST_MONGODB_URI'): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: run this test through jest's integration or e2e project, whose globalSetup (tests/utils/global-setup.ts) sets it.`);
  }
  return value;
}

export function testRedisUrl(): string {
  return required('TEST_REDIS_URL');
}

/**
 * The test server's URI with `dbName` as its database. Works for a user-provided MONGODB_URI
 * too: any database already in it is replaced, query options are kept. Not parsed with URL,
 * because a MongoDB URI may list several hosts.
 */
export function testMongoUri(dbName: string): string {
  if (!/^[\w-]{1,63}$/.test(dbName)) throw new Error(`Invalid database name for a test: ${JSON.stringify(dbName)}`);
  const base = required('TEST_MONGODB_URI');
  const [beforeQuery, query] = base.split(/\?(.*)/s, 2);
  const schemeEnd = beforeQuery.indexOf('://') + 3;
  const slash = beforeQuery.indexOf('/', schemeEnd);
  const hosts = slash === -1 ? beforeQuery : beforeQuery.slice(0, slash);
  return `${hosts}/${dbName}${query ? `?${query}` : ''}`;
}
