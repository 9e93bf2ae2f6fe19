/**
 * Service worker registration with a prompt-style update flow, the persistent-storage request
 * and the install hint (SPEC §15).
 *
 * Updating never drops queued work: the outbox, photo and attachment blobs live in IndexedDB,
 * which a new service worker never touches (Dexie upgrades keep every table), and the reload
 * happens only once the current sync round has finished — a push cut off by a reload would be
 * replayed harmlessly, but a rep watching "sending 3/5" vanish would not trust the app again.
 */
import { registerSW } from 'virtual:pwa-register';
import { online, requestSync, signal, syncStatus } from './state';
import type { SyncStatus } from './sync/engine';

/** A new version is installed and waiting. */
export const updateReady = signal<boolean>(false);
/** The rep asked for it; waiting for the sync round to end before reloading. */
export const updating = signal<boolean>(false);
/** Chrome's deferred install prompt (null: not offered, or already installed). */
export const installPrompt = signal<any>(null);
/** Whether the browser granted persistent storage (null: unknown / unsupported). */
export const persisted = signal<boolean | null>(null);

let activateWaiting: ((reload?: boolean) => Promise<void>) | null = null;

type StatusSource = { get(): SyncStatus; sub(f: (s: SyncStatus) => void): () => void };

/** Resolves when no sync round is running (at once if none is). */
export function whenSyncIdle(status: StatusSource): Promise<void> {
  if (!status.get().running) return Promise.resolve();
  return new Promise((resolve) => {
    const off = status.sub((s) => {
      if (!s.running) {
        off();
        resolve();
      }
    });
  });
}

export interface UpdateDeps {
  status: StatusSource;
  isOnline: () => boolean;
  /** Ask the leader tab for a round (pushes what is queued while we are still on this version). */
  kick: () => void;
  activate: () => Promise<void>;
  /** How long to wait for the round that was asked for; offline or a slow server must not block forever. */
  roundTimeoutMs?: number;
}

/**
 * Reload into the waiting version: first let any running round finish; when online, run one more
 * round so the outbox is sent by the version that wrote it; then activate (skipWaiting + reload).
 * Whatever is still queued after that stays in IndexedDB and the new version sends it.
 */
export async function applyUpdate(deps: UpdateDeps): Promise<void> {
  await whenSyncIdle(deps.status);
  if (deps.isOnline()) {
    const before = deps.status.get().lastSync;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => { off(); resolve(); }, deps.roundTimeoutMs ?? 30_000);
      let started = false;
      const off = deps.status.sub((s) => {
        if (s.running) started = true;
        else if (started || s.lastSync !== before || s.error) {
          clearTimeout(timer);
          off();
          resolve();
        }
      });
      deps.kick();
    });
  }
  await whenSyncIdle(deps.status);
  await deps.activate();
}

/** The banner's button. */
export async function reloadIntoUpdate(): Promise<void> {
  if (updating.get()) return;
  updating.set(true);
  await applyUpdate({
    status: syncStatus, isOnline: () => online.get(), kick: requestSync,
    activate: async () => {
      const sw = navigator.serviceWorker;
      if (!activateWaiting || !sw?.controller) return location.reload();
      // workbox-window reloads on its own 'controlling' event only for a worker it installed
      // itself; a version found by the hourly (or the browser's) update check is "external" to
      // it. The controller changing is the one signal that always comes: reload on it.
      sw.addEventListener('controllerchange', () => location.reload(), { once: true });
      await activateWaiting(true);
    },
  });
}

async function askPersistence(): Promise<void> {
  try {
    if (!navigator.storage?.persist) return;
    persisted.set((await navigator.storage.persisted?.()) || (await navigator.storage.persist()));
  } catch {
    persisted.set(null);
  }
}

const HOUR = 3600_000;

export function registerPwa(): void {
  void askPersistence();
  addEventListener('beforeinstallprompt', (e) => {
    e.preventDefault();
    (window as any).__installPrompt = e; // the settings screen's install button
    installPrompt.set(e);
  });
  addEventListener('appinstalled', () => {
    installPrompt.set(null);
    (window as any).__installPrompt = null;
    void askPersistence(); // installed apps are granted persistent storage
  });
  if (!('serviceWorker' in navigator)) return;
  activateWaiting = registerSW({
    immediate: true,
    onNeedRefresh() {
      updateReady.set(true);
    },
    onRegisteredSW(_url, registration) {
      // A phone keeps the app open for days: look for a new version every hour while online.
      if (registration) setInterval(() => { if (navigator.onLine) registration.update().catch(() => undefined); }, HOUR);
    },
  });
}

/** Show the install hint? Not when running installed, nor for a week after "later". */
export function installHintWanted(now = Date.now()): boolean {
  if (typeof matchMedia === 'function' && matchMedia('(display-mode: standalone)').matches) return false;
  const later = Number(localStorage.getItem('fieldcrm-install-later') ?? 0);
  return now - later > 7 * 24 * HOUR;
}

export function installLater(now = Date.now()): void {
  localStorage.setItem('fieldcrm-install-later', String(now));
}
