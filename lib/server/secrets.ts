/**
 * The secret that signs cookies. Every server node must use the same one, and it must outlive
 * restarts (else every browser loses its jobs' ownership): `SESSION_SECRET` when set, else one
 * made on the first start and kept in the database, which all nodes share. The first node to
 * store one wins; the others read it.
 */
import { randomBytes } from 'node:crypto';
import type { Db } from 'mongodb';

const SETTINGS_COLLECTION = 'settings';
const SECRET_ID = 'cookie-secret';

interface SettingDocument {
  _id: string;
  value: string;
}

export async function cookieSecret(db: Db, configured: string | null): Promise<string> {
  if (configured) return configured;
  const settings = db.collection<SettingDocument>(SETTINGS_COLLECTION);
  // An upsert that sets the value only on insert: two nodes starting at once agree. The one
  // that loses the race to insert gets a duplicate-key error, and reads the winner's.
  try {
    await settings.updateOne({ _id: SECRET_ID }, { $setOnInsert: { value: randomBytes(32).toString('base64url') } }, { upsert: true });
  } catch (err) {
    if ((err as { code?: unknown }).code !== 11000) throw err;
  }
  const stored = await settings.findOne({ _id: SECRET_ID });
  if (!stored?.value) throw new Error('the cookie secret could not be stored');
  return stored.value;
}
