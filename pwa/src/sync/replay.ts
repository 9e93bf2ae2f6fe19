/**
 * The view the rep sees: server state with the outbox replayed on top (SPEC §12).
 * Pure functions — no IndexedDB — so the rebase rule is easy to test: after a pull the
 * acknowledged mutations are gone from the outbox and the rest are replayed on the new state.
 */
import type { Mutation, ServerRow } from '../db';

export type Entity = Record<string, any> & { id: string; _pending?: boolean };
export type View = Map<string, Map<string, Entity>>;

export interface ReplayContext {
  user: { id: string; display_name: string } | null;
}

export const ENTITIES = [
  'customer', 'contact', 'user', 'department', 'settings', 'notification', 'approval', 'account',
  'follow_up', 'visit', 'opportunity', 'deal', 'payment', 'target', 'daily_report',
];

/** Which customer an entity belongs to (for cascading deletes and the detail screen). */
export function customerOf(entity: string, data: Record<string, any>): string | undefined {
  if (entity === 'customer') return data.id;
  return data.customer_id ?? undefined;
}

export function emptyView(): View {
  const v: View = new Map();
  for (const e of ENTITIES) v.set(e, new Map());
  return v;
}

export function viewFromRows(rows: ServerRow[]): View {
  const v = emptyView();
  for (const r of rows) {
    let m = v.get(r.entity);
    if (!m) v.set(r.entity, (m = new Map()));
    m.set(r.id, r.data as unknown as Entity);
  }
  return v;
}

function put(v: View, entity: string, obj: Entity): void {
  let m = v.get(entity);
  if (!m) v.set(entity, (m = new Map()));
  m.set(obj.id, { ...obj, _pending: true });
}

function merge(v: View, entity: string, id: string, changes: Record<string, any>): void {
  const m = v.get(entity);
  const cur = m?.get(id);
  if (!m || !cur) return;
  m.set(id, { ...cur, ...changes, _pending: true });
}

function dropCustomer(v: View, customerId: string): void {
  for (const [entity, m] of v) {
    for (const [id, obj] of m) {
      if (customerOf(entity, obj) === customerId) m.delete(id);
    }
  }
}

/** Apply one mutation's optimistic effect to the view (mutates `v`). Unknown names change nothing. */
export function applyMutation(v: View, mut: Mutation & { local?: any }, ctx: ReplayContext): void {
  const a = mut.args;
  const me = ctx.user ? { id: ctx.user.id, display_name: ctx.user.display_name } : null;
  switch (mut.name) {
    case 'customer.create': {
      const { contacts, ...rest } = a;
      put(v, 'customer', {
        ...rest, code: null, status: rest.status ?? 'potential', owner: me, pool: null, co_followers: [],
        created_at: mut.client_time, visit_count: 0, deal_total: 0, payment_total: 0, receivables: 0,
        version: 0, days_to_reclaim: null,
      } as unknown as Entity);
      for (const c of contacts ?? []) put(v, 'contact', { ...c, customer_id: a.id, version: 0 });
      break;
    }
    case 'customer.update':
    case 'contact.update':
    case 'opportunity.update': {
      const entity = mut.name.split('.')[0];
      const changes = { ...a.changes };
      merge(v, entity, a.id, changes);
      break;
    }
    case 'contact.create':
      put(v, 'contact', { ...a, version: 0 } as unknown as Entity);
      break;
    case 'customer.claim': {
      const base = mut.local?.customer ?? { id: a.customer_id, name: a.customer_id };
      put(v, 'customer', { ...base, id: a.customer_id, owner: me, pool: null, co_followers: [], _claimed: true });
      break;
    }
    case 'customer.release':
      dropCustomer(v, a.customer_id);
      break;
    case 'follow_up.create':
      put(v, 'follow_up', { ...a, created_at: mut.client_time, valid: null, user_id: me?.id } as unknown as Entity);
      break;
    case 'visit.create':
      put(v, 'visit', { ...a, verification: null, user_id: me?.id } as unknown as Entity);
      break;
    case 'opportunity.create':
      put(v, 'opportunity', { stage: 'qualify', ...a, owner_id: me?.id } as unknown as Entity);
      break;
    case 'opportunity.set_stage':
      merge(v, 'opportunity', a.id ?? a.opportunity_id, { stage: a.stage });
      break;
    case 'deal.create':
      put(v, 'deal', { status: 'draft', ...a } as unknown as Entity);
      break;
    case 'deal.sign':
      merge(v, 'deal', a.id ?? a.deal_id, a.signed_date ? { status: 'signed', signed_date: a.signed_date } : { status: 'signed' });
      break;
    case 'payment.create':
      put(v, 'payment', { ...a } as unknown as Entity);
      break;
    case 'notification.read':
      merge(v, 'notification', a.id ?? a.notification_id, { read_at: mut.client_time });
      break;
    case 'target.save': {
      // A rep's own draft waits for the manager (R-K1); actuals come with the server's copy.
      const cur = v.get('target')?.get(a.id);
      put(v, 'target', { actuals: null, ...cur, ...a, user_id: a.user_id ?? cur?.user_id ?? me?.id,
        status: a.user_id && a.user_id !== me?.id ? 'active' : 'pending' } as unknown as Entity);
      break;
    }
    case 'daily_report.save':
      // Over the synced copy of that date, so its server-made parts (auto numbers) stay shown.
      put(v, 'daily_report', { ...v.get('daily_report')?.get(a.id), id: a.id ?? `${a.date}`, ...a } as unknown as Entity);
      break;
    default:
      break;
  }
}

/** Server state + outbox, in mutation-id order. Mutations are never applied twice. */
export function buildView(rows: ServerRow[], outbox: Mutation[], ctx: ReplayContext): View {
  const v = viewFromRows(rows);
  for (const m of [...outbox].sort((x, y) => x.id - y.id)) applyMutation(v, m, ctx);
  return v;
}

/** Everything that depends on a rejected mutation's created ids is also doomed (dependency_rejected). */
export function createdIds(mut: Mutation): string[] {
  const a = mut.args;
  if (mut.name === 'customer.create') return [a.id, ...((a.contacts ?? []) as any[]).map((c) => c.id)];
  if (mut.name.endsWith('.create') && a.id) return [a.id];
  return [];
}
