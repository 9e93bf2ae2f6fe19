/** Login, re-login and logout on the phone. Local work always stays with the user who did it. */
import { Api, ApiError, type Session, type SessionStore } from './api';
import { db, getMeta, setMeta } from './db';
import { pendingCount } from './sync/outbox';

export const sessions: SessionStore = {
  get: () => getMeta<Session | null>('session', null),
  set: async (s) => {
    await setMeta('session', s);
  },
};

export interface PendingWork {
  mutations: number;
  rejections: number;
  photos: number;
}

export async function pendingWork(): Promise<PendingWork> {
  return {
    // acknowledged mutations are on the server already; only unsent work is at risk
    mutations: await pendingCount(),
    rejections: await db.rejections.count(),
    photos: await db.photos.where('uploaded').equals(0).count(),
  };
}

export function hasPending(p: PendingWork): boolean {
  return p.mutations + p.rejections + p.photos > 0;
}

/** Forget everything of the current user; the next login gets a fresh client id. */
export async function wipeLocal(): Promise<void> {
  await db.transaction('rw', [db.server, db.outbox, db.rejections, db.photos, db.meta], async () => {
    await Promise.all([db.server.clear(), db.outbox.clear(), db.rejections.clear(), db.photos.clear()]);
    const lang = await db.meta.get('lang');
    await db.meta.clear();
    if (lang) await db.meta.put(lang);
  });
}

/**
 * Sign in. When this phone holds another user's unsent work the login is refused
 * (`other_user_pending`): that work may only ever be pushed under its own user.
 */
export async function login(api: Api, username: string, password: string): Promise<Session> {
  const res = await fetch('/api/v1/auth/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'Accept-Language': api.lang },
    body: JSON.stringify({ username, password }),
  });
  const text = await res.text();
  if (!res.ok) {
    let body: any = null;
    try { body = JSON.parse(text); } catch { /* not JSON */ }
    if (body?.error) throw new ApiError(res.status, body.error.code, body.error.message, body.error.details ?? {});
    throw new ApiError(res.status, `http_${res.status}`, '');
  }
  const s = JSON.parse(text) as Session;
  const previous = await getMeta<string | null>('userId', null);
  if (previous && previous !== s.user.id) {
    if (hasPending(await pendingWork())) {
      throw new ApiError(409, 'other_user_pending', '', { username: (await getMeta<any>('lastUser', null))?.username });
    }
    await wipeLocal();
  }
  await setMeta('userId', s.user.id);
  await setMeta('lastUser', s.user);
  await sessions.set({ user: s.user, access_token: s.access_token, refresh_token: s.refresh_token });
  return s;
}

export async function logout(api: Api): Promise<void> {
  try {
    await api.raw('POST', '/api/v1/auth/logout');
  } catch {
    /* offline or already expired: the local wipe is what matters */
  }
  await wipeLocal();
}
