import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from '../../lib/infra/config';

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

  it('read the public address and the allowed origins, refusing anything that is not an origin', () => {
    expect(loadConfig({})).toMatchObject({ publicUrl: null, allowedOrigins: [] });
    const config = loadConfig({ PUBLIC_URL: 'https://dl.home.invalid', ALLOWED_ORIGINS: ' http://a.invalid:8080 ,https://b.invalid' });
    expect(config).toMatchObject({ publicUrl: 'https://dl.home.invalid', allowedOrigins: ['http://a.invalid:8080', 'https://b.invalid'] });
    for (const bad of ['http://a.invalid/path', 'ftp://a.invalid', 'not a url']) {
      expect(() => loadConfig({ ALLOWED_ORIGINS: bad })).toThrow(/ALLOWED_ORIGINS/);
    }
    expect(() => loadConfig({ PUBLIC_URL: 'dl.home.invalid' })).toThrow(/PUBLIC_URL/);
  });

  it('refuse a bad value and name every variable at fault', () => {
    const attempt = () => loadConfig({ PORT: 'eighty', ALLOW_PRIVATE_ADDRESSES: 'yes please', MONGODB_URI: 'postgres://x' });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/PORT/);
    expect(attempt).toThrow(/ALLOW_PRIVATE_ADDRESSES/);
    expect(attempt).toThrow(/MONGODB_URI/);
  });

  it('have the documented download limits and retry policy by default', () => {
    const config = loadConfig({});
    expect(config.limits).toEqual({
      maxBytes: 10_737_418_240,
      connectTimeoutMs: 10_000,
      idleTimeoutMs: 30_000,
      totalTimeoutMs: 21_600_000,
      maxRedirects: 5,
      minFreeBytes: 1024 ** 3,
      minSpeedBytesPerS: 1024,
      minSpeedWindowMs: 60_000,
    });
    expect(config).toMatchObject({ downloadAttempts: 5, retryBackoffMs: 2000 });
  });

  it('read the limits and the retry policy from the environment', () => {
    const config = loadConfig({
      MAX_DOWNLOAD_BYTES: '1048576',
      CONNECT_TIMEOUT_MS: '250',
      IDLE_TIMEOUT_MS: '500',
      TOTAL_TIMEOUT_MS: '60000',
      MAX_REDIRECTS: '0',
      MIN_FREE_BYTES: '0',
      MIN_SPEED_BYTES_PER_S: '0',
      MIN_SPEED_WINDOW_MS: '1000',
      DOWNLOAD_ATTEMPTS: '2',
      RETRY_BACKOFF_MS: '0',
    });
    expect(config.limits).toEqual({
      maxBytes: 1_048_576,
      connectTimeoutMs: 250,
      idleTimeoutMs: 500,
      totalTimeoutMs: 60_000,
      maxRedirects: 0,
      minFreeBytes: 0,
      minSpeedBytesPerS: 0,
      minSpeedWindowMs: 1000,
    });
    expect(config).toMatchObject({ downloadAttempts: 2, retryBackoffMs: 0 });
  });

  it.each([
    ['MAX_DOWNLOAD_BYTES', '10GB'],
    ['MAX_DOWNLOAD_BYTES', '0'],
    ['CONNECT_TIMEOUT_MS', '-1'],
    ['IDLE_TIMEOUT_MS', '1.5'],
    ['TOTAL_TIMEOUT_MS', 'forever'],
    ['MAX_REDIRECTS', '21'],
    ['MAX_REDIRECTS', '-1'],
    ['MIN_SPEED_BYTES_PER_S', '-5'],
    ['MIN_FREE_BYTES', '1GB'],
    ['MIN_SPEED_WINDOW_MS', '50'],
    ['DOWNLOAD_ATTEMPTS', '0'],
    ['RETRY_BACKOFF_MS', '-5'],
  ])('refuse %s=%s', (name, value) => {
    const attempt = () => loadConfig({ [name]: value });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(new RegExp(`^Invalid settings:\\n  ${name}:`));
  });

  it('run in production mode only when NODE_ENV says so', () => {
    expect(loadConfig({ NODE_ENV: 'production' }).dev).toBe(false);
  });
});
