import { describe, expect, it } from '@jest/globals';
import { isRefusableDestination } from '../../lib/server/destination';

const refusable = (url: string) => isRefusableDestination(new URL(url));

describe('a destination refused at submit time', () => {
  it.each([
    'http://127.0.0.1/a',
    'http://127.1/a',
    'http://2130706433/a',
    'http://0x7f000001/a',
    'http://0177.0.0.1/a',
    'http://0.0.0.0/a',
    'http://[::1]/a',
    'http://[::ffff:127.0.0.1]/a',
    'http://[::ffff:7f00:1]/a',
    'http://10.0.0.1/a',
    'http://172.16.5.4/a',
    'http://192.168.1.1/a',
    'http://169.254.169.254/latest/meta-data',
    'http://100.64.0.1/a',
    'http://[fd00:ec2::254]/a',
    'http://[fe80::1]/a',
    'http://224.0.0.1/a',
    'http://localhost:3000/a',
    'http://LOCALHOST./a',
    'http://app.localhost/a',
    'http://user:pw@127.0.0.1/a',
  ])('refuses %s', (url) => {
    expect(refusable(url)).toBe(true);
  });

  it.each(['https://files.invalid/a.iso', 'http://93.184.215.14/a', 'http://[2606:4700::1111]/a', 'http://localhost.files.invalid/a'])(
    'lets %s through to the worker (which checks again after resolving)',
    (url) => {
      expect(refusable(url)).toBe(false);
    },
  );
});
