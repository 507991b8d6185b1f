/**
 * The secret that signs cookies, kept in the database so that every server node signs alike:
 * nodes that start at the same moment (a rolling deploy, a benchmark) must agree on one.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { MongoClient } from 'mongodb';
import { cookieSecret } from '../../lib/server/secrets';
import { dropDatabase } from '../utils/cleanup';
import { testMongoUri } from '../utils/services-env';

const uri = testMongoUri(`test_secret_${process.pid}`);
let clients: MongoClient[];

beforeAll(async () => {
  // One connection per node, as each server process has its own.
  clients = await Promise.all(Array.from({ length: 6 }, () => new MongoClient(uri).connect()));
});

afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
  await dropDatabase(uri);
});

it('is one secret for nodes that start at once, kept for the next start', async () => {
  const secrets = await Promise.all(clients.map((client) => cookieSecret(client.db(), null)));
  expect(new Set(secrets).size).toBe(1);
  expect(secrets[0]).toMatch(/^[\w-]{40,}$/);
  expect(await cookieSecret(clients[0].db(), null)).toBe(secrets[0]);
  expect(await cookieSecret(clients[0].db(), 'a-configured-secret-of-32-characters!')).toBe('a-configured-secret-of-32-characters!');
});
