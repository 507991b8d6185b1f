import { describe, expect, it } from '@jest/globals';
import { exposureProblem, loadConfig } from '../../lib/infra/config';
import { newerJobView } from '../../lib/domain/job-state';
import type { JobView } from '../../lib/domain/job';
import { safeNextPath } from '../../lib/domain/sign-in-input';
import { createIdentity } from '../../lib/server/identity';
import { withoutQuery } from '../../lib/util/redact-url';

const SECRET = 'a-secret-of-at-least-thirty-two-characters';
const TOKEN = 'the-access-token-1234';

/** The cookie a Set-Cookie value sets, as a browser sends it back. */
const sent = (setCookie: string) => setCookie.split(';')[0];

describe('the caller', () => {
  const identity = createIdentity({ secret: SECRET, accessToken: TOKEN, secureCookies: true });

  it('is signed in by a session cookie that this server signed for this token, and no other', () => {
    const session = identity.sessionCookie();
    expect(session).toMatch(/HttpOnly; SameSite=Lax; Secure/);
    expect(identity.identify({ cookie: sent(session) })).toMatchObject({ signedIn: true, admin: false, wrongToken: false });
    expect(identity.identify({})).toMatchObject({ signedIn: false, wrongToken: false });
    const otherToken = createIdentity({ secret: SECRET, accessToken: 'another-token-5678', secureCookies: true });
    expect(otherToken.identify({ cookie: sent(session) }).signedIn).toBe(false);
    const otherSecret = createIdentity({ secret: `${SECRET}!`, accessToken: TOKEN, secureCookies: true });
    expect(otherSecret.identify({ cookie: sent(session) }).signedIn).toBe(false);
    const expired = identity.sessionCookie(Date.now() - 31 * 86_400_000);
    expect(identity.identify({ cookie: sent(expired) }).signedIn).toBe(false);
  });

  it('holds the token when it is sent as a bearer token or a socket auth.token; a wrong one is a failed attempt', () => {
    expect(identity.identify({ authorization: `Bearer ${TOKEN}` })).toMatchObject({ admin: true, signedIn: true });
    expect(identity.identify({}, TOKEN)).toMatchObject({ admin: true, signedIn: true });
    expect(identity.identify({ authorization: 'Bearer nope' })).toMatchObject({ admin: false, signedIn: false, wrongToken: true });
    expect(identity.identify(new Headers({ authorization: `Bearer ${TOKEN}` })).admin).toBe(true);
  });

  it('is everyone signed in, and no one admin, when no token is set', () => {
    const open = createIdentity({ secret: SECRET, accessToken: null, secureCookies: false });
    expect(open.identify({})).toEqual({ owner: null, admin: false, signedIn: true, wrongToken: false });
    expect(open.identify({}, 'anything')).toMatchObject({ admin: false, wrongToken: false });
    expect(open.isAccessToken('anything')).toBe(false);
  });

  it('gets a signed owner id on its first request, which a forged cookie cannot replace', () => {
    const req = { headers: { cookie: 'ld_owner=chosen-by-me.forged' } } as any;
    const setCookies: string[] = [];
    const res = { appendHeader: (_name: string, value: string) => setCookies.push(value) } as any;
    let seen: string | null = null;
    identity.assignOwner((request) => (seen = identity.identify(request.headers).owner))(req, res);
    expect(seen).toMatch(/^[0-9a-f-]{36}$/);
    expect(setCookies).toHaveLength(1);
    expect(identity.identify({ cookie: sent(setCookies[0]) }).owner).toBe(seen);
    // Known, it is kept: no new cookie.
    identity.assignOwner(() => undefined)({ headers: { cookie: sent(setCookies[0]) } } as any, res);
    expect(setCookies).toHaveLength(1);
  });
});

describe('a server reachable from other machines', () => {
  it('must have an access token, or say it is meant to be open', () => {
    expect(exposureProblem(loadConfig({}))).toBeNull();
    expect(exposureProblem(loadConfig({ HOST: '::1' }))).toBeNull();
    expect(exposureProblem(loadConfig({ HOST: '0.0.0.0' }))).toMatch(/ACCESS_TOKEN/);
    expect(exposureProblem(loadConfig({ HOST: '192.168.1.20' }))).toMatch(/ALLOW_ANONYMOUS=true/);
    expect(exposureProblem(loadConfig({ HOST: '0.0.0.0', ACCESS_TOKEN: TOKEN }))).toBeNull();
    expect(exposureProblem(loadConfig({ HOST: '0.0.0.0', ALLOW_ANONYMOUS: 'true' }))).toBeNull();
  });

  it('refuses an access token too short to resist guessing', () => {
    expect(() => loadConfig({ ACCESS_TOKEN: 'short' })).toThrow(/ACCESS_TOKEN/);
  });
});

describe("a job's URL for people other than its owner", () => {
  it('has no query or fragment, where presigned links keep their secret', () => {
    expect(withoutQuery('https://files.invalid/a/b.zip?X-Amz-Signature=abc#frag')).toBe('https://files.invalid/a/b.zip?…');
    expect(withoutQuery('https://***@files.invalid/b.zip?sig=1')).toBe('https://***@files.invalid/b.zip?…');
    expect(withoutQuery('https://files.invalid/b.zip')).toBe('https://files.invalid/b.zip');
  });

  it("stays the owner's whole URL on the owner's tab when a room state arrives", () => {
    const base = { id: 'j', run: 1, status: 'active', version: 1 } as JobView;
    const own = { ...base, url: 'https://files.invalid/b.zip?sig=1', canControl: true };
    const room = { ...base, url: 'https://files.invalid/b.zip?…', version: 2 };
    expect(newerJobView(own, room)).toEqual({ ...room, url: own.url, canControl: true });
    expect(newerJobView(null, room)).toBe(room);
    // A snapshot older than a room state the tab already has still says what this tab may do.
    expect(newerJobView(room, own)).toEqual({ ...room, url: own.url, canControl: true });
  });
});

describe('the page after signing in', () => {
  it('is a path of this app, never another site', () => {
    expect(safeNextPath('/jobs/1?x=2')).toBe('/jobs/1?x=2');
    for (const bad of ['//evil.invalid/', '/\\evil.invalid', 'https://evil.invalid/', undefined, ['/a']]) expect(safeNextPath(bad)).toBe('/');
  });
});
