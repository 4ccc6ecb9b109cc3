/**
 * The one way the app talks to repo-api: same origin, JSON, `Authorization: Bearer` with the
 * signed-in person's token. Failures come out as two kinds the pages can explain: the API
 * answered with an error (`ApiError`, carrying repo-api's stable `code` and its message for
 * people), or it could not be reached at all (`NetworkError`).
 */
import type { ApiError as ApiErrorBody } from '@gha-slurm/core/api/types';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The request never got an answer: offline, repo-api down, or a proxy in between failing. */
export class NetworkError extends Error {
  constructor(message = 'repo-api could not be reached') {
    super(message);
    this.name = 'NetworkError';
  }
}

function isErrorBody(value: unknown): value is ApiErrorBody {
  return typeof value === 'object' && value !== null && typeof (value as ApiErrorBody).message === 'string';
}

export interface ApiClientOptions {
  /** The current bearer token, read at each request (OIDC renews it). */
  token: () => string | null;
  /** Called on any 401 from an authenticated request: the sign-in has lapsed. */
  onUnauthorized?: (error: ApiError) => void;
  fetch?: typeof fetch;
}

export type ApiClient = ReturnType<typeof createApiClient>;

export function createApiClient(options: ApiClientOptions) {
  const doFetch = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));

  /** `explicitToken`: a token being checked, not yet the session's (its 401 ends nothing). */
  async function request<T>(method: string, path: string, body?: unknown, explicitToken?: string): Promise<T> {
    const token = explicitToken ?? options.token();
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await doFetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'same-origin',
      });
    } catch {
      throw new NetworkError();
    }
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // A proxy's HTML error page, typically: described below by its status.
    }
    if (!response.ok) {
      const error = isErrorBody(parsed)
        ? new ApiError(response.status, parsed.code ?? 'ERROR', parsed.message)
        : new ApiError(response.status, 'HTTP_ERROR', `repo-api answered ${response.status} ${response.statusText}`.trim());
      if (response.status === 401 && token && explicitToken === undefined) options.onUnauthorized?.(error);
      throw error;
    }
    return parsed as T;
  }

  return {
    get: <T>(path: string) => request<T>('GET', path),
    post: <T>(path: string, body?: unknown) => request<T>('POST', path, body ?? {}),
    delete: <T = void>(path: string) => request<T>('DELETE', path),
    /** A request with an explicit token, for checking one before it is kept. */
    getWithToken: <T>(path: string, token: string) => request<T>('GET', path, undefined, token),
    postWithToken: <T>(path: string, token: string, body?: unknown) => request<T>('POST', path, body ?? {}, token),
  };
}

/** Errors worth another try: no answer, or repo-api (or Redis behind it) briefly unavailable. */
export function isTransient(error: unknown): boolean {
  if (error instanceof NetworkError) return true;
  return error instanceof ApiError && (error.status >= 500 || error.status === 429);
}

export function query(params: Record<string, string | number | boolean | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}
