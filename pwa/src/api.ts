/** Minimal client for the fieldcrm HTTP API (SPEC §13). */

export interface ErrorEnvelope {
  error: { code: string; message: string; details?: Record<string, unknown> | null };
}

export interface User {
  id: string;
  username: string;
  display_name: string;
  role?: string;
  [key: string]: unknown;
}

export interface LoginResponse {
  access_token: string;
  refresh_token: string;
  user: User;
}

/** An API failure: `code`/`message` come from the error envelope when the server sent one. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: Record<string, unknown>;

  constructor(status: number, code: string, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

function isErrorEnvelope(body: unknown): body is ErrorEnvelope {
  if (typeof body !== 'object' || body === null || !('error' in body)) return false;
  const err = (body as { error: unknown }).error;
  return (
    typeof err === 'object' &&
    err !== null &&
    typeof (err as { code?: unknown }).code === 'string' &&
    typeof (err as { message?: unknown }).message === 'string'
  );
}

/**
 * Turn a non-2xx answer into an ApiError. Uses the JSON envelope when there is one; otherwise
 * (a proxy's HTML error page, an empty body) code is `http_<status>` and message is empty, so
 * the caller shows its own localized text.
 */
export function errorFromResponse(status: number, bodyText: string): ApiError {
  let body: unknown = null;
  try {
    body = bodyText ? JSON.parse(bodyText) : null;
  } catch {
    body = null;
  }
  if (isErrorEnvelope(body)) {
    return new ApiError(status, body.error.code, body.error.message, body.error.details ?? {});
  }
  return new ApiError(status, `http_${status}`, '');
}

/** Thrown when the request never got an answer (offline, DNS, connection refused). */
export class NetworkError extends Error {
  constructor(cause: unknown) {
    super('network error', { cause });
    this.name = 'NetworkError';
  }
}

export async function postJson<T>(path: string, payload: unknown, lang: string): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Accept: 'application/json',
        'Accept-Language': lang,
      },
      body: JSON.stringify(payload),
      credentials: 'same-origin',
    });
  } catch (e) {
    throw new NetworkError(e);
  }
  const text = await res.text();
  if (!res.ok) throw errorFromResponse(res.status, text);
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ApiError(res.status, 'invalid_response', '');
  }
}

export function login(username: string, password: string, lang: string): Promise<LoginResponse> {
  return postJson<LoginResponse>('/api/v1/auth/login', { username, password }, lang);
}

/** The server asked for the password again (the refresh token is gone or revoked). */
export class AuthRequired extends Error {
  constructor() {
    super('authentication required');
    this.name = 'AuthRequired';
  }
}

export interface Session {
  user: User;
  access_token: string;
  refresh_token: string;
}

export interface SessionStore {
  get(): Promise<Session | null>;
  set(s: Session | null): Promise<void>;
}

/**
 * Authenticated JSON client. A 401 triggers one refresh (rotating both tokens); if that fails
 * too, AuthRequired is thrown and the app asks for the password again, keeping all local data.
 */
export class Api {
  constructor(
    private readonly sessions: SessionStore,
    private readonly fetchImpl: typeof fetch = (...a) => fetch(...a),
    public lang: string = 'zh-CN',
  ) {}

  private async send(method: string, path: string, token: string | null, body?: BodyInit | null,
    contentType = 'application/json'): Promise<Response> {
    const headers: Record<string, string> = { Accept: 'application/json', 'Accept-Language': this.lang };
    if (body != null) headers['Content-Type'] = contentType;
    if (token) headers.Authorization = `Bearer ${token}`;
    try {
      return await this.fetchImpl(path, { method, headers, body: body ?? undefined, credentials: 'same-origin' });
    } catch (e) {
      throw new NetworkError(e);
    }
  }

  private async refresh(session: Session): Promise<Session> {
    const res = await this.send('POST', '/api/v1/auth/refresh', session.refresh_token);
    if (res.status === 401 || res.status === 403) throw new AuthRequired();
    const text = await res.text();
    if (!res.ok) throw errorFromResponse(res.status, text);
    const body = JSON.parse(text);
    const next: Session = { user: body.user ?? session.user, access_token: body.access_token,
      refresh_token: body.refresh_token ?? session.refresh_token };
    await this.sessions.set(next);
    return next;
  }

  /** Raw authenticated request (photos); retries once after a refresh. */
  async raw(method: string, path: string, body?: BodyInit | null, contentType?: string): Promise<Response> {
    let session = await this.sessions.get();
    if (!session) throw new AuthRequired();
    let res = await this.send(method, path, session.access_token, body, contentType);
    if (res.status === 401) {
      session = await this.refresh(session);
      res = await this.send(method, path, session.access_token, body, contentType);
      if (res.status === 401) throw new AuthRequired();
    }
    return res;
  }

  async json<T = any>(method: string, path: string, payload?: unknown): Promise<T> {
    const res = await this.raw(method, path, payload === undefined ? null : JSON.stringify(payload));
    const text = await res.text();
    if (!res.ok) throw errorFromResponse(res.status, text);
    try {
      return (text ? JSON.parse(text) : null) as T;
    } catch {
      throw new ApiError(res.status, 'invalid_response', '');
    }
  }
}
