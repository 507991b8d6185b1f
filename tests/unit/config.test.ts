import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from '../../lib/config';

describe('settings', () => {
  it('have safe defaults: loopback only, private addresses refused', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 3000,
      redisUrl: 'redis://127.0.0.1:6379',
      allowPrivateAddresses: false,
      workerConcurrency: 4,
      dev: true,
    });
    expect(config.dataDir).toBe(path.resolve('.data'));
  });

  it('allow private addresses only when asked to', () => {
    expect(loadConfig({ ALLOW_PRIVATE_ADDRESSES: 'true' }).allowPrivateAddresses).toBe(true);
    expect(loadConfig({ ALLOW_PRIVATE_ADDRESSES: 'false' }).allowPrivateAddresses).toBe(false);
  });

  it('refuse a bad value and name every variable at fault', () => {
    const attempt = () => loadConfig({ PORT: 'eighty', ALLOW_PRIVATE_ADDRESSES: 'yes please', MONGODB_URI: 'postgres://x' });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/PORT/);
    expect(attempt).toThrow(/ALLOW_PRIVATE_ADDRESSES/);
    expect(attempt).toThrow(/MONGODB_URI/);
  });

  it('run in production mode only when NODE_ENV says so', () => {
    expect(loadConfig({ NODE_ENV: 'production' }).dev).toBe(false);
  });
});
