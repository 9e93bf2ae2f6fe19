/** App-wide state: the live view (server state + outbox), sync status, session, language. */
import { liveQuery } from 'dexie';
import { useEffect, useState } from 'preact/hooks';
import { Api } from './api';
import { db, getMeta, setMeta } from './db';
import { browserLanguages, pickLanguage, type Lang } from './i18n';
import { sessions } from './session';
import { SyncEngine, electLeader, type SyncStatus } from './sync/engine';
import { pendingCount } from './sync/outbox';
import { buildView, emptyView, type View } from './sync/replay';

export const api = new Api(sessions);
export const engine = new SyncEngine(api);

// ---- tiny observable ------------------------------------------------------------------------
export function signal<T>(initial: T) {
  let value = initial;
  const subs = new Set<(v: T) => void>();
  return {
    get: () => value,
    set(v: T) {
      value = v;
      subs.forEach((f) => f(v));
    },
    sub(f: (v: T) => void) {
      subs.add(f);
      return () => void subs.delete(f);
    },
  };
}

export function useSignal<T>(s: ReturnType<typeof signal<T>>): T {
  const [v, setV] = useState(s.get());
  useEffect(() => {
    setV(() => s.get()); // catch up with changes between render and subscription
    return s.sub((next) => setV(() => next));
  }, [s]);
  return v;
}

export const lang = signal<Lang>(pickLanguage(browserLanguages(typeof navigator === 'undefined' ? undefined : navigator)));
export const online = signal<boolean>(typeof navigator === 'undefined' ? true : navigator.onLine);
export const syncStatus = signal<SyncStatus>(engine.status);
export const user = signal<any>(null);

export async function setLang(l: Lang): Promise<void> {
  lang.set(l);
  api.lang = l;
  document.documentElement.lang = l;
  await setMeta('lang', l);
}

// ---- the view --------------------------------------------------------------------------------
export const view = signal<View>(emptyView());
export const counts = signal({ outbox: 0, rejections: 0 });

let started = false;
export function startLiveView(): void {
  if (started) return;
  started = true;
  liveQuery(async () => {
    // Sequential awaits keep Dexie's change tracking on both tables.
    const outbox = await db.outbox.toArray();
    const rows = await db.server.toArray();
    return { rows, outbox };
  }).subscribe({
    next: ({ rows, outbox }) => view.set(buildView(rows, outbox, { user: user.get() })),
    error: (e) => console.error(e),
  });
  // Pending = not yet answered by the server; acknowledged mutations still replay (above) until
  // the pull brings their server copy, but are no longer waiting for the network.
  liveQuery(async () => ({ outbox: await pendingCount(), rejections: await db.rejections.count() })).subscribe({
    next: (c) => counts.set(c),
  });
}

// ---- sync loop: leader tab runs it; others forward requests ------------------------------------
const channel = typeof BroadcastChannel !== 'undefined' ? new BroadcastChannel('fieldcrm-sync') : null;
let leader = false;

export function requestSync(): void {
  if (leader) engine.kick(0);
  else channel?.postMessage({ type: 'kick' });
}

export function startSyncLoop(): void {
  engine.subscribe((s) => {
    syncStatus.set(s);
    if (leader) channel?.postMessage({ type: 'status', status: s });
  });
  channel?.addEventListener('message', (ev: MessageEvent) => {
    if (ev.data?.type === 'kick' && leader) engine.kick(0);
    if (ev.data?.type === 'status' && !leader) syncStatus.set(ev.data.status);
  });
  electLeader(() => {
    leader = true;
    syncStatus.set({ ...engine.status, leader: true });
    engine.kick(0); // on start
  });
  window.addEventListener('online', () => {
    online.set(true);
    requestSync();
  });
  window.addEventListener('offline', () => online.set(false));
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') requestSync();
  });
}

export async function loadSession(): Promise<void> {
  const s = await sessions.get();
  user.set(s?.user ?? (await getMeta('lastUser', null)));
  const l = await getMeta<Lang | null>('lang', null);
  if (l) await setLang(l);
  else api.lang = lang.get();
}
