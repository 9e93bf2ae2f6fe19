/**
 * Pure rules behind the rep's pipeline, daily report and target screens: no IndexedDB, no
 * DOM, so they are unit-tested directly. The server decides every rule again (SPEC R-S1…R-S5,
 * R-K1, R-K2); these only tell the rep beforehand what it will say.
 */
import type { Entity, View } from '../sync/replay';

// ---- money: integer fen, never floats -----------------------------------------------------------

/** The server's ceiling for any amount (server/pipeline/schemas.py MAX_FEN). */
export const MAX_FEN = 10 ** 15;

export type YuanParse = { fen: number } | { error: 'empty' | 'format' | 'too_small' | 'too_large' };

/**
 * Yuan as a rep types it — "12,345.6", "¥ 8000", "１２３．４５" (full-width keyboards), "500元" — to
 * integer fen, done on the digits so that no binary fraction ever rounds a cent away. More than
 * two decimals is refused rather than rounded: a contract amount is what the paper says.
 */
export function yuanToFen(text: string, opts: { min?: number; max?: number } = {}): YuanParse {
  const min = opts.min ?? 1;
  const max = opts.max ?? MAX_FEN;
  const s = (text ?? '').normalize('NFKC').replace(/[\s,，¥￥]/g, '').replace(/元$/, '').replace(/。/g, '.');
  if (!s) return { error: 'empty' };
  const m = /^(\d+)(?:\.(\d{0,2}))?$/.exec(s);
  if (!m) return { error: 'format' };
  const whole = m[1].replace(/^0+(?=\d)/, '');
  // 10^15 fen is 10^13 yuan (14 digits): anything longer is over any limit, and over exact doubles.
  if (whole.length > 14) return { error: 'too_large' };
  const fen = Number(whole) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
  if (fen > max) return { error: 'too_large' };
  if (fen < min) return { error: 'too_small' };
  return { fen };
}

/** Fen back to the text an input shows ("1234.50"), exactly. */
export function fenToYuanText(fen: number | null | undefined): string {
  if (fen == null) return '';
  const f = Math.trunc(fen);
  return `${Math.trunc(f / 100)}.${String(Math.abs(f % 100)).padStart(2, '0')}`;
}

// ---- opportunities (R-S1, R-S2) ------------------------------------------------------------------

export const STAGES = ['qualify', 'solution', 'negotiation', 'contracting', 'won', 'lost'] as const;
export type Stage = (typeof STAGES)[number];
export const WIN_RATES: Record<Stage, number> = { qualify: 20, solution: 40, negotiation: 60, contracting: 80, won: 100, lost: 0 };

/** What each gate asks for, in the server's codes (`details.missing` of stage_requirements_unmet). */
export const GATE_ITEMS: Record<Stage, readonly string[]> = {
  qualify: ['need', 'budget', 'timeline'],
  solution: ['products', 'quantities'],
  negotiation: ['products', 'quantities', 'prices'],
  contracting: ['contract_draft'],
  won: ['signed_deal'],
  lost: ['loss_reason'],
};

/** amount × win rate to the nearest fen, as the server rounds it (BigInt: 10^15 × 100 > 2^53). */
export function weighted(amount: number, stage: string): number {
  const rate = WIN_RATES[stage as Stage] ?? 0;
  return Number((BigInt(Math.trunc(amount || 0)) * BigInt(rate) + 50n) / 100n);
}

const blank = (v: unknown) => v == null || (typeof v === 'string' && !v.trim());

export interface ProductLine { product: string; quantity: number | null; unit_price: number | null }

/** Σ quantity × unit price when every line has both, else null (the server's order total). */
export function orderTotal(lines: ProductLine[] | null | undefined): number | null {
  if (!lines?.length || lines.some((l) => l.quantity == null || l.unit_price == null)) return null;
  return lines.reduce((s, l) => s + Number(l.quantity) * Number(l.unit_price), 0);
}

/**
 * The gate of `stage` for this opportunity as the phone sees it: every item the stage asks for,
 * met or not — the same rules as server.pipeline.service.stage_missing, applied to local data
 * (server state with the outbox replayed), so an edit made offline ticks its box at once.
 */
export function gateChecklist(opp: Entity, stage: Stage, ctx: { signed: boolean; lossReason?: string | null }):
  { item: string; met: boolean }[] {
  const lines: ProductLine[] = opp.products ?? [];
  const has = (item: string): boolean => {
    switch (item) {
      case 'need': case 'budget': case 'timeline': return !blank(opp[item]);
      case 'products': return lines.length > 0;
      case 'quantities': return lines.length > 0 && lines.every((l) => l.quantity != null);
      case 'prices': return lines.length > 0 && lines.every((l) => l.unit_price != null);
      case 'contract_draft': return !blank(opp.contract_draft);
      case 'signed_deal': return ctx.signed;
      case 'loss_reason': return !blank(ctx.lossReason) || !blank(opp.loss_reason);
      default: return false;
    }
  };
  return GATE_ITEMS[stage].map((item) => ({ item, met: has(item) }));
}

/** What the server will report missing — its reporting is a little terser than the checklist. */
export function stageMissing(opp: Entity, stage: Stage, ctx: { signed: boolean; lossReason?: string | null }): string[] {
  const list = gateChecklist(opp, stage, ctx);
  const missing = list.filter((x) => !x.met).map((x) => x.item);
  // No lines at all is reported as "products" alone (quantities/prices of nothing are moot).
  if (missing.includes('products')) return missing.filter((m) => m !== 'quantities' && m !== 'prices');
  return missing;
}

/** Deals of an opportunity, and whether one is signed (locally: pending signatures count). */
export function signedDealFor(v: View, oppId: string): boolean {
  for (const d of v.get('deal')?.values() ?? []) if (d.opportunity_id === oppId && d.status === 'signed') return true;
  return false;
}

// ---- deals, payments, receivables (R-S3…R-S5) -----------------------------------------------------

/** Paid on a deal: every payment the phone knows of (pulled, and queued ones on top). */
export function paidOn(v: View, dealId: string): number {
  let paid = 0;
  for (const p of v.get('payment')?.values() ?? []) if (p.deal_id === dealId) paid += Number(p.amount) || 0;
  return paid;
}

export function dealsOf(v: View, customerId: string): Entity[] {
  return [...(v.get('deal')?.values() ?? [])].filter((d) => d.customer_id === customerId)
    .sort((a, b) => String(b.signed_date ?? b.created_at ?? '').localeCompare(String(a.signed_date ?? a.created_at ?? '')));
}

/** R-S5: signed contract amounts − payments received, for one customer (fen). */
export function receivables(v: View, customerId: string): { signed: number; paid: number; outstanding: number } {
  let signed = 0;
  let paid = 0;
  for (const d of dealsOf(v, customerId)) {
    if (d.status !== 'signed') continue;
    signed += Number(d.amount) || 0;
    paid += paidOn(v, d.id);
  }
  return { signed, paid, outstanding: signed - paid };
}

/** R-S4 beforehand: null when the payment fits, else what remains payable. */
export function overpaymentCheck(v: View, deal: Entity, amount: number): null | { remaining: number } {
  const remaining = (Number(deal.amount) || 0) - paidOn(v, deal.id);
  return amount > remaining ? { remaining } : null;
}

// ---- daily report (R-K2) ---------------------------------------------------------------------------

/** The calendar date ("YYYY-MM-DD") of a moment in the organisation's time zone. */
export function orgDate(at: string | Date | null | undefined, timeZone: string): string {
  if (!at) return '';
  const d = typeof at === 'string' ? new Date(at) : at;
  if (Number.isNaN(d.getTime())) return typeof at === 'string' ? at.slice(0, 10) : '';
  // en-CA formats as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(d);
}

export interface DailyAuto {
  new_customers: { id: string; name: string }[];
  visits: { id: string; customer_id: string; customer_name: string; verification_status: string | null }[];
  deals: { id: string; customer_name: string; amount: number; contract_no: string }[];
  payments: { id: string; customer_name: string; amount: number }[];
  counts: { new_customers: number; visits: number; deals: number; deal_amount: number; payments: number; payment_amount: number };
}

/**
 * The day's automatic part of a daily report from what is on the phone, in the shape the server
 * sends (`daily_report.data.auto`): customers I created that day, my visits, the deals signed
 * and the payments received that day on my customers' contracts. Queued records count too —
 * that is the point of showing it before sync; the server's numbers replace these once synced.
 */
export function dailyAuto(v: View, me: string, date: string, timeZone: string): DailyAuto {
  const customers = v.get('customer') ?? new Map();
  const nameOf = (id: string | undefined) => (id && customers.get(id)?.name) || '';
  const all = (e: string) => [...(v.get(e)?.values() ?? [])];
  const mine = (x: Entity, ...keys: string[]) => keys.some((k) => x[k] === me) || (x._pending === true && keys.every((k) => x[k] == null));
  const new_customers = all('customer')
    .filter((c) => !c.voided_at && !c.pool && orgDate(c.created_at, timeZone) === date
      && (c.created_by_id ? c.created_by_id === me : c._pending ? !c._claimed : c.owner?.id === me))
    .map((c) => ({ id: c.id, name: c.name }));
  const visits = all('visit')
    .filter((x) => mine(x, 'author_id', 'user_id') && orgDate(x.visited_at, timeZone) === date)
    .map((x) => ({ id: x.id, customer_id: x.customer_id, customer_name: nameOf(x.customer_id),
      verification_status: x.verification_status ?? x.verification?.status ?? null }));
  const deals = all('deal')
    .filter((d) => d.status === 'signed' && d.signed_date === date
      && (d.signed_by_id === me || d.created_by_id === me || (d._pending && d.signed_by_id == null)))
    .map((d) => ({ id: d.id, customer_name: nameOf(d.customer_id), amount: Number(d.amount) || 0, contract_no: d.contract_no }));
  const dealCustomer = (id: string) => v.get('deal')?.get(id)?.customer_id;
  const payments = all('payment')
    .filter((p) => p.received_date === date && (p.created_by_id === me || (p._pending && p.created_by_id == null)))
    .map((p) => ({ id: p.id, customer_name: nameOf(p.customer_id ?? dealCustomer(p.deal_id)), amount: Number(p.amount) || 0 }));
  const sum = (xs: { amount: number }[]) => xs.reduce((s, x) => s + x.amount, 0);
  return {
    new_customers, visits, deals, payments,
    counts: { new_customers: new_customers.length, visits: visits.length, deals: deals.length, deal_amount: sum(deals),
      payments: payments.length, payment_amount: sum(payments) },
  };
}

/** My report of a date: the synced one, or the one queued on this phone. */
export function reportFor(v: View, me: string, date: string): Entity | undefined {
  for (const r of v.get('daily_report')?.values() ?? []) {
    if (r.date === date && (r.user_id === me || (r._pending && r.user_id == null))) return r;
  }
  return undefined;
}

// ---- targets (R-K1) --------------------------------------------------------------------------------

export const TARGET_MEASURES = ['new_customers', 'visits', 'deal_amount', 'payment_amount'] as const;

/** Progress in percent (0 when there is no goal), not capped: 130 % is worth showing. */
export function progress(actual: number | null | undefined, goal: number | null | undefined): number {
  if (!goal || goal <= 0) return 0;
  return Math.floor(((Number(actual) || 0) * 100) / goal);
}

/** My targets, newest period first; rejected drafts stay visible so the rep sees the answer. */
export function myTargets(v: View, me: string): Entity[] {
  return [...(v.get('target')?.values() ?? [])]
    .filter((t) => !t.voided_at && (t.user_id === me || (t._pending && t.user_id == null)))
    .sort((a, b) => String(b.start_date).localeCompare(String(a.start_date)));
}

/** R-K1 beforehand: `invalid_period` or `target_period_overlap` (with whom), else null. */
export function targetPeriodProblem(v: View, me: string, draft: { id: string; start_date: string; end_date: string }):
  null | { code: 'invalid_period' } | { code: 'target_period_overlap'; other: Entity } {
  if (draft.start_date > draft.end_date) return { code: 'invalid_period' };
  for (const t of myTargets(v, me)) {
    if (t.id === draft.id || t.status === 'rejected') continue;
    if (t.start_date <= draft.end_date && draft.start_date <= t.end_date) return { code: 'target_period_overlap', other: t };
  }
  return null;
}
