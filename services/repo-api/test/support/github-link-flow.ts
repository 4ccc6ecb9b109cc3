/**
 * Links a GitHub account the way a browser does, with a real HTTP client and a cookie jar:
 * sign in (`POST /api/session` sets the session cookie), navigate to `/api/github/link`
 * (cookie only, as a browser navigation), follow the redirect to the simulated GitHub's
 * authorize page, which approves and sends the browser to repo-api's callback, and follow that.
 * Every answer is kept, so tests can look for secrets in them.
 */

/** Cookies as a browser keeps them for one host: by name, each with its path. */
export class CookieJar {
  private readonly cookies = new Map<string, { value: string; path: string }>();
  /** Every Set-Cookie header seen, as sent. */
  readonly seen: string[] = [];

  store(response: Response): void {
    for (const header of response.headers.getSetCookie()) {
      this.seen.push(header);
      const [pair = '', ...attributes] = header.split(';').map((part) => part.trim());
      const at = pair.indexOf('=');
      const name = pair.slice(0, at);
      const value = pair.slice(at + 1);
      const path = attributes.find((attribute) => /^path=/i.test(attribute))?.slice(5) ?? '/';
      const expired = attributes.some((attribute) => /^max-age=0$/i.test(attribute) || /^expires=thu, 01 jan 1970/i.test(attribute));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, { value, path });
    }
  }

  header(path: string): string {
    return [...this.cookies.entries()]
      .filter(([, cookie]) => cookie.path === '/' || path === cookie.path || path.startsWith(`${cookie.path}/`))
      .map(([name, cookie]) => `${name}=${cookie.value}`)
      .join('; ');
  }

  has(name: string): boolean {
    return this.cookies.has(name);
  }

  delete(name: string): void {
    this.cookies.delete(name);
  }
}

export interface Hop {
  url: string;
  status: number;
  location: string | null;
  body: string;
}

export interface LinkFlow {
  jar: CookieJar;
  hops: Hop[];
  /** GitHub's authorize URL as repo-api built it. */
  authorizeUrl: URL;
  /** Where the simulated GitHub sent the browser back (repo-api's callback, with code and state). */
  callbackUrl: URL | null;
  /** Where repo-api sent the browser at the end (`/repos?github=...`). */
  final: URL;
}

async function hop(hops: Hop[], jar: CookieJar, url: string, init: RequestInit = {}): Promise<Hop> {
  const path = new URL(url).pathname;
  const cookie = jar.header(path);
  const response = await fetch(url, {
    ...init,
    redirect: 'manual',
    headers: { ...(init.headers as Record<string, string> | undefined), ...(cookie ? { cookie } : {}) },
  });
  jar.store(response);
  const entry = { url, status: response.status, location: response.headers.get('location'), body: await response.text() };
  hops.push(entry);
  return entry;
}

export interface LinkOptions {
  /** A `login` hint for the simulated GitHub's authorize page: approve as this user. */
  login?: string;
  returnTo?: string;
  /** Stop after GitHub's redirect, without calling repo-api's callback. */
  skipCallback?: boolean;
  /** Call the callback without the binding cookie (another browser). */
  dropBindingCookie?: boolean;
  jar?: CookieJar;
}

/** Links the GitHub account that the simulated GitHub approves as, for the user of `bearer`. */
export async function linkGitHub(repoApiUrl: string, bearer: string, options: LinkOptions = {}): Promise<LinkFlow> {
  const jar = options.jar ?? new CookieJar();
  const hops: Hop[] = [];
  const session = await hop(hops, jar, `${repoApiUrl}/api/session`, { method: 'POST', headers: { authorization: `Bearer ${bearer}` } });
  if (session.status !== 200) throw new Error(`POST /api/session answered ${session.status}: ${session.body}`);
  const returnTo = options.returnTo ? `?returnTo=${encodeURIComponent(options.returnTo)}` : '';
  const start = await hop(hops, jar, `${repoApiUrl}/api/github/link${returnTo}`);
  if (start.status !== 302 || !start.location) throw new Error(`GET /api/github/link answered ${start.status}: ${start.body}`);
  const authorizeUrl = new URL(start.location);
  const asked = new URL(authorizeUrl);
  if (options.login) asked.searchParams.set('login', options.login);
  const github = await hop(hops, jar, asked.toString());
  if (github.status !== 302 || !github.location) throw new Error(`GitHub's authorize page answered ${github.status}: ${github.body}`);
  const callbackUrl = new URL(github.location);
  if (options.skipCallback) return { jar, hops, authorizeUrl, callbackUrl, final: callbackUrl };
  if (options.dropBindingCookie) jar.delete('ghaslurm_github_link');
  const back = await hop(hops, jar, callbackUrl.toString());
  if (back.status !== 302 || !back.location) throw new Error(`the callback answered ${back.status}: ${back.body}`);
  return { jar, hops, authorizeUrl, callbackUrl, final: new URL(back.location, repoApiUrl) };
}
