/** Small shared pieces of the rep screens in this folder (app.tsx keeps its own). */
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { t, type Lang, type MessageKey } from '../i18n';
import { lang, useSignal, user, view } from '../state';
import type { Entity, View } from '../sync/replay';
import { yuanToFen, type YuanParse } from './logic';
import './screens.css';

export const go = (path: string) => (location.hash = `#/${path}`);

export function useT() {
  const l = useSignal(lang);
  return { l, tr: (k: MessageKey, p?: Record<string, string | number>) => t(l, k, p) };
}

export type Tr = (k: MessageKey, p?: Record<string, string | number>) => string;

export function values(v: View, entity: string): Entity[] {
  return [...(v.get(entity)?.values() ?? [])];
}

/** The organisation's time zone (pulled settings), for "which day" questions. */
export function orgTimeZone(v: View): string {
  return ((v.get('settings')?.get('org') as any)?.timezone as string | undefined) ?? 'Asia/Shanghai';
}

export function useView() {
  return { v: useSignal(view), me: useSignal(user)?.id as string | undefined };
}

/** Path segments after the route name: "#/deal/<customer>/<opportunity>" → [customer, opportunity]. */
export function routeArgs(): string[] {
  return location.hash.replace(/^#\/?/, '').split('/').slice(1).map(decodeURIComponent);
}

export function Card({ title, children, testid }: { title?: string; children: ComponentChildren; testid?: string }) {
  return <section class="card" data-testid={testid}>{title && <h3>{title}</h3>}{children}</section>;
}

export function moneyError(tr: Tr, p: YuanParse): string {
  return 'error' in p ? tr(`m_${p.error}` as MessageKey) : '';
}

/** A yuan input that keeps the typed text and reports fen (or the reason it is not money). */
export function useYuan(initial = '', min = 1): [string, (s: string) => void, YuanParse] {
  const [text, setText] = useState(initial);
  return [text, setText, yuanToFen(text, { min })];
}

export async function sha256Hex(blob: Blob): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', await blob.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

export const MAX_ATTACHMENT = 20 * 1024 * 1024;

/** Today ("YYYY-MM-DD") in the org time zone. */
export function todayIn(timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
}

export function stageName(tr: Tr, s: string): string {
  return tr(`sg_${s}` as MessageKey);
}

export type { Lang };
