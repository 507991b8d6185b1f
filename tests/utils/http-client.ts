/**
 * An HTTP client of the app that keeps cookies as a browser does for the host (whatever the
 * port, as browsers do): its owner cookie, and its session once signed in. Each client is
 * another browser; the jobs it creates are its own, on every node.
 */
export interface HttpClient {
  /** Calls the API and returns the status and parsed JSON body. `init.headers.Cookie` replaces the client's cookies. */
  api(baseUrl: string, path: string, init?: RequestInit): Promise<{ status: number; body: any; headers: Headers }>;
  /** The `Cookie` header this client sends. */
  cookies(): string;
}

export function createHttpClient(): HttpClient {
  const jar = new Map<string, string>();
  let identifying: Promise<void> | undefined;

  const keep = (response: Response) => {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      const [name, value] = [pair.slice(0, eq).trim(), pair.slice(eq + 1).trim()];
      if (attributes.some((a) => a.trim().toLowerCase() === 'max-age=0')) jar.delete(name);
      else jar.set(name, value);
    }
  };
  const cookies = () => [...jar].map(([name, value]) => `${name}=${value}`).join('; ');

  return {
    cookies,
    async api(baseUrl, path, init = {}) {
      const headers = new Headers(init.headers);
      if (!headers.has('cookie')) {
        // The first request gets the client its owner cookie; requests sent at once wait for
        // it, or each would be a new owner.
        identifying ??= fetch(`${baseUrl}/api/health`).then(keep);
        await identifying;
        headers.set('cookie', cookies());
      }
      const response = await fetch(`${baseUrl}${path}`, { ...init, headers });
      keep(response);
      const text = await response.text();
      const body = text && response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text || null;
      // Not enumerable: tests compare the answer's status and body as a whole.
      return Object.defineProperty({ status: response.status, body }, 'headers', { value: response.headers }) as { status: number; body: any; headers: Headers };
    },
  };
}
