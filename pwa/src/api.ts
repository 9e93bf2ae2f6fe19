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
