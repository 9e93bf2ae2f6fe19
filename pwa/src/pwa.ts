/**
 * Service worker registration with a prompt-style update: a new version waits until the user
 * taps "update" and no sync is running. The outbox lives in IndexedDB, which an update never
 * touches, so no queued work is lost. Also asks for persistent storage and keeps the
 * install prompt for the settings screen.
 */
import { registerSW } from 'virtual:pwa-register';
import { engine, signal } from './state';

export const updateReady = signal<null | (() => void)>(null);

export function registerPwa(): void {
  if (!('serviceWorker' in navigator)) return;
  const update = registerSW({
    immediate: true,
    onNeedRefresh() {
      updateReady.set(async () => {
        // Finish the current round first; queued mutations stay in IndexedDB either way.
        try { await engine.sync(); } catch { /* offline: still safe */ }
        await update(true);
      });
    },
  });
  navigator.storage?.persist?.().catch(() => undefined);
  addEventListener('beforeinstallprompt', (e) => {
    e.preventDefault();
    (window as any).__installPrompt = e;
  });
}
