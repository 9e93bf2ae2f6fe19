/**
 * The only part of the manager's desk in the rep shell: who gets it, its nav link, and a loader
 * that fetches the desk's chunk (screens, strings; ECharts later still) on first use.
 */
import { useEffect, useState } from 'preact/hooks';
import { lang, user, useSignal } from '../state';

const DESK_ROLES = ['manager', 'ops', 'admin'];

export function isDeskUser(u: { role?: string } | null | undefined): boolean {
  return !!u && DESK_ROLES.includes(String(u.role));
}

export function DeskLink({ on }: { on: boolean }) {
  const u = useSignal(user);
  const l = useSignal(lang);
  if (!isDeskUser(u)) return null;
  return <a href="#/desk" class={on ? 'on' : ''} data-testid="nav-desk">{l === 'en' ? 'Desk' : '门户'}</a>;
}

let desk: Promise<any> | null = null;

export function DeskScreen() {
  const u = useSignal(user);
  const [Desk, setDesk] = useState<any>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    if (!isDeskUser(u)) return;
    desk ??= import('./index');
    desk.then((m) => setDesk(() => m.Desk), () => {
      desk = null;
      setFailed(true);
    });
  }, [u]);
  if (!isDeskUser(u)) return <p class="muted" data-testid="desk-forbidden">—</p>;
  if (failed) return <p class="error">{lang.get() === 'en' ? 'The desk could not be loaded.' : '门户加载失败。'}</p>;
  return Desk ? <Desk /> : <p class="muted">…</p>;
}
