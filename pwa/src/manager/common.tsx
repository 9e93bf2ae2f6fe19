/** Shared pieces of the manager's desk: online loading, mutations with their answer, tables. */
import { useEffect, useState } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import { ApiError, AuthRequired, NetworkError } from '../api';
import { db } from '../db';
import { errorText, formatDate, formatMoney, formatNumber, type Lang } from '../i18n';
import { api, online, requestSync, user, useSignal, view } from '../state';
import { enqueue } from '../sync/outbox';
import { resolveRejection } from '../sync/engine';
import type { Entity, View } from '../sync/replay';
import { mt, useMT, type MKey } from './i18n';

// ---- routes: #/desk/<screen>/<arg>?<query> ---------------------------------------------------
export interface DeskRoute {
  screen: string;
  arg: string;
  query: URLSearchParams;
}

export function parseDeskHash(hash: string): DeskRoute {
  const raw = hash.replace(/^#\/?/, '');
  const [path, qs = ''] = raw.split('?');
  const parts = path.split('/');
  return { screen: parts[1] || 'home', arg: decodeURIComponent(parts[2] ?? ''), query: new URLSearchParams(qs) };
}

export function useDeskRoute(): DeskRoute {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return parseDeskHash(hash);
}

export function deskHref(screen: string, arg = '', params: Record<string, unknown> = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== '') q.set(k, String(v));
  const qs = q.toString();
  return `#/desk/${screen}${arg ? `/${encodeURIComponent(arg)}` : ''}${qs ? `?${qs}` : ''}`;
}

export function goDesk(screen: string, arg = '', params: Record<string, unknown> = {}): void {
  location.hash = deskHref(screen, arg, params);
}

/** A drill target (`{report, params}` of a chart segment) as a link to the query report. */
export function drillHref(drill: { report: string; params?: Record<string, unknown> } | null | undefined): string {
  return drill ? deskHref('reports', drill.report, drill.params ?? {}) : '';
}

// ---- online data -----------------------------------------------------------------------------
export interface Loaded<T> {
  data: T | null;
  error: string;
  loading: boolean;
  reload: () => void;
}

export function reasonOf(l: Lang, e: unknown): string {
  if (e instanceof NetworkError) return mt(l, 'needsOnline');
  if (e instanceof AuthRequired) return errorText(l, { code: 'not_authorized' });
  if (e instanceof ApiError) {
    if (e.code.startsWith('http_')) return `HTTP ${e.status}`;
    return errorText(l, e);
  }
  return String(e);
}

/** GET a JSON path while online; `path` null waits. Reloads when the path or language changes. */
export function useOnline<T = any>(path: string | null): Loaded<T> {
  const { l } = useMT();
  const on = useSignal(online);
  const [state, setState] = useState<{ data: T | null; error: string; loading: boolean }>({ data: null, error: '', loading: !!path });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (!path) return;
    if (!on) {
      setState((s) => ({ ...s, loading: false, error: s.data ? '' : mt(l, 'needsOnline') }));
      return;
    }
    let live = true;
    setState((s) => ({ ...s, loading: true, error: '' }));
    api.json<T>('GET', path).then(
      (data) => live && setState({ data, error: '', loading: false }),
      (e) => live && setState({ data: null, error: reasonOf(l, e), loading: false }),
    );
    return () => {
      live = false;
    };
  }, [path, on, l, tick]);
  return { ...state, reload: () => setTick((x) => x + 1) };
}

// ---- mutations with their answer --------------------------------------------------------------
export type MutationAnswer =
  | { status: 'applied' }
  | { status: 'queued' }
  | { status: 'rejected'; error: { code: string; message?: string; details?: Record<string, any> } };

/**
 * Queue a mutation like every other action (so it also works offline) and, while online, wait
 * until the server answered it. A rejection is shown where the manager acted, so it is
 * resolved (discarded) here rather than left in the sync screen's inbox as well.
 */
export async function runMutation(name: string, args: Record<string, any>, timeoutMs = 30000): Promise<MutationAnswer> {
  const mut = await enqueue(name, args);
  requestSync();
  if (!online.get()) return { status: 'queued' };
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    await new Promise((r) => setTimeout(r, 150));
    if (await db.outbox.get(mut.id)) continue;
    const rejection = await db.rejections.get(mut.id);
    if (!rejection) return { status: 'applied' };
    const error = rejection.error;
    try {
      await resolveRejection(api, rejection, 'discard');
    } catch {
      /* stays in the sync screen's inbox; the reason is shown here anyway */
    }
    return { status: 'rejected', error };
  }
  return { status: 'queued' };
}

// ---- people ----------------------------------------------------------------------------------
export const DESK_ROLES = ['manager', 'ops', 'admin'];

export function values(v: View, entity: string): Entity[] {
  return [...(v.get(entity)?.values() ?? [])];
}

/** Departments at or under `rootId` (the directory is synced to every phone). */
export function subtree(v: View, rootId: string | null | undefined): Set<string> {
  const deps = values(v, 'department');
  const out = new Set<string>();
  if (!rootId) return out;
  out.add(rootId);
  let grew = true;
  while (grew) {
    grew = false;
    for (const d of deps) {
      if (d.parent_id && out.has(String(d.parent_id)) && !out.has(String(d.id))) {
        out.add(String(d.id));
        grew = true;
      }
    }
  }
  return out;
}

/** The people a desk user manages: a manager's department subtree; ops and admins everyone. */
export function useTeam(includeInactive = false): { members: Entity[]; departments: Entity[] } {
  const v = useSignal(view);
  const u = useSignal(user);
  const me = v.get('user')?.get(u?.id);
  const all = values(v, 'user');
  const deps = values(v, 'department');
  if (u?.role === 'manager') {
    const mine = subtree(v, me?.department_id ?? u?.department_id);
    return {
      members: all.filter((x) => mine.has(String(x.department_id)) && (includeInactive || x.active !== false))
        .sort((a, b) => String(a.display_name).localeCompare(String(b.display_name), 'zh')),
      departments: deps.filter((d) => mine.has(String(d.id))),
    };
  }
  return {
    members: all.filter((x) => includeInactive || x.active !== false)
      .sort((a, b) => String(a.display_name).localeCompare(String(b.display_name), 'zh')),
    departments: deps,
  };
}

// ---- formatting ------------------------------------------------------------------------------
/** Money is shown in yuan (¥1,234.50) while it travels in fen, so a "(分)" in a title would mislead. */
export function columnTitle(c: { title: string; type: string }): string {
  return c.type === 'money' ? c.title.replace(/\s*[（(]\s*(分|fen)\s*[)）]/i, '') : c.title;
}

/** Charts whose values are money (fen): their axes and tooltips show yuan. */
export function isMoneyReport(key: string): boolean {
  return /amount|payment/.test(key);
}

export function formatCell(l: Lang, type: string | undefined, value: any): string {
  if (value === null || value === undefined || value === '') return '—';
  switch (type) {
    case 'money': return formatMoney(l, Number(value));
    case 'int': return formatNumber(l, Number(value));
    case 'date': return formatDate(l, String(value));
    case 'datetime': return formatDate(l, String(value), true);
    case 'percent': // the reports answer percentages rounded to one decimal (42.5)
      return `${formatNumber(l, Number(value))}%`;
    default:
      if (typeof value === 'boolean') return mt(l, value ? 'yes' : 'no');
      if (typeof value === 'object') return JSON.stringify(value);
      return String(value);
  }
}

export function todayIso(): string {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

export function Panel({ title, children, testid, extra }: { title?: string; children: ComponentChildren; testid?: string; extra?: ComponentChildren }) {
  return (
    <section class="card desk-panel" data-testid={testid}>
      {(title || extra) && <div class="panel-head">{title && <h3>{title}</h3>}{extra}</div>}
      {children}
    </section>
  );
}

export function Status({ loaded }: { loaded: Loaded<any> }) {
  const { m } = useMT();
  if (loaded.loading && !loaded.data) return <p class="muted">{m('loading')}</p>;
  if (loaded.error) return <p class="error" role="alert">{m('failed', { reason: loaded.error })}</p>;
  return null;
}

/** Download an authenticated file (exports, templates) under the name the server gives it. */
export async function download(path: string, fallbackName: string): Promise<void> {
  const res = await api.raw('GET', path);
  if (!res.ok) {
    const text = await res.text();
    let body: any = null;
    try { body = JSON.parse(text); } catch { /* not JSON */ }
    throw new ApiError(res.status, body?.error?.code ?? `http_${res.status}`, body?.error?.message ?? '', body?.error?.details ?? {});
  }
  const blob = await res.blob();
  const cd = res.headers.get('content-disposition') ?? '';
  const star = /filename\*=UTF-8''([^;]+)/i.exec(cd);
  const plain = /filename="?([^";]+)"?/i.exec(cd);
  const name = star ? decodeURIComponent(star[1]) : plain ? plain[1] : fallbackName;
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

export function kindText(l: Lang, kind: string): string {
  const key = `k_${kind}` as MKey;
  return mt(l, key) === key ? kind : mt(l, key);
}
