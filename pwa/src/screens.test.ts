import 'fake-indexeddb/auto';
import { beforeEach, describe, expect, it } from 'vitest';
import { FieldDb, db, useDatabase, type ServerRow } from './db';
import { enqueue } from './sync/outbox';
import { buildView } from './sync/replay';
import {
  dailyAuto, fenToYuanText, gateChecklist, myTargets, orgDate, overpaymentCheck, progress, receivables, reportFor,
  stageMissing, targetPeriodProblem, weighted, yuanToFen,
} from './screens/logic';
import { parseLines } from './screens/Pipeline';
import { applyUpdate, whenSyncIdle } from './pwa';
import { errorText } from './i18n';

const ME = { id: 'u1', display_name: 'Alice' };
let n = 0;
beforeEach(async () => {
  useDatabase(new FieldDb(`screens-${++n}`));
  await db.open();
});

async function localView() {
  return buildView(await db.server.toArray(), await db.outbox.toArray(), { user: ME });
}
const row = (entity: string, data: Record<string, any>, version = 1): ServerRow =>
  ({ entity, id: data.id, version, customer_id: entity === 'customer' ? data.id : data.customer_id, data });

describe('yuan typed → integer fen', () => {
  it('parses what reps type, exactly', () => {
    expect(yuanToFen('12,345.6')).toEqual({ fen: 1234560 });
    expect(yuanToFen('¥ 8000')).toEqual({ fen: 800000 });
    expect(yuanToFen('１２３．４５')).toEqual({ fen: 12345 }); // full-width keyboard
    expect(yuanToFen('500元')).toEqual({ fen: 50000 });
    expect(yuanToFen('0.07')).toEqual({ fen: 7 });
    expect(yuanToFen('19.99')).toEqual({ fen: 1999 }); // 19.99 * 100 is 1998.9999… as a float
    expect(yuanToFen('1.1')).toEqual({ fen: 110 });
    expect(yuanToFen('10000000000000')).toEqual({ fen: 10 ** 15 }); // the server's ceiling, inclusive
    expect(yuanToFen('10000000000000.01')).toEqual({ error: 'too_large' });
    expect(yuanToFen('9999999999999.99')).toEqual({ fen: 999999999999999 });
  });
  it('refuses what is not an amount instead of guessing', () => {
    expect(yuanToFen('')).toEqual({ error: 'empty' });
    expect(yuanToFen('1.234')).toEqual({ error: 'format' }); // a contract says 2 decimals
    expect(yuanToFen('-5')).toEqual({ error: 'format' });
    expect(yuanToFen('1e5')).toEqual({ error: 'format' });
    expect(yuanToFen('0')).toEqual({ error: 'too_small' });
    expect(yuanToFen('0', { min: 0 })).toEqual({ fen: 0 });
    expect(yuanToFen('99999999999999999999')).toEqual({ error: 'too_large' });
  });
  it('prints fen back without floats', () => {
    expect(fenToYuanText(1999)).toBe('19.99');
    expect(fenToYuanText(5)).toBe('0.05');
    expect(fenToYuanText(999999999999999)).toBe('9999999999999.99');
  });
  it('product lines: prices in yuan to fen, quantities whole', () => {
    expect(parseLines([{ product: ' 空调 ', quantity: '3', unit_price: '1,200.50' }, { product: '', quantity: '', unit_price: '' }]))
      .toEqual({ lines: [{ product: '空调', quantity: 3, unit_price: 120050 }] });
    expect(parseLines([{ product: 'A', quantity: '1.5', unit_price: '' }])).toEqual({ error: 'quantity' });
    expect(parseLines([{ product: 'A', quantity: '0', unit_price: '' }])).toEqual({ error: 'quantity' });
    expect(parseLines([{ product: 'A', quantity: '', unit_price: 'x' }])).toEqual({ error: 'price' });
  });
});

describe('gate checklist (R-S1) from local data', () => {
  const opp = { id: 'o1', customer_id: 'c1', name: 'AC', amount: 1000000, stage: 'qualify', version: 3,
    need: '节能', budget: '', timeline: null, products: [] };

  it('lists every item of the chosen stage, checked or not', () => {
    expect(gateChecklist(opp, 'qualify', { signed: false })).toEqual([
      { item: 'need', met: true }, { item: 'budget', met: false }, { item: 'timeline', met: false }]);
    expect(gateChecklist(opp, 'negotiation', { signed: false }).map((x) => x.met)).toEqual([false, false, false]);
    expect(gateChecklist(opp, 'won', { signed: true })).toEqual([{ item: 'signed_deal', met: true }]);
    expect(gateChecklist(opp, 'lost', { signed: false, lossReason: '  ' })).toEqual([{ item: 'loss_reason', met: false }]);
    expect(gateChecklist(opp, 'lost', { signed: false, lossReason: '价格' })).toEqual([{ item: 'loss_reason', met: true }]);
  });

  it('reports missing items as the server does', () => {
    expect(stageMissing(opp, 'solution', { signed: false })).toEqual(['products']);
    const lines = { ...opp, products: [{ product: 'A', quantity: 2, unit_price: null }, { product: 'B', quantity: null, unit_price: 5 }] };
    expect(stageMissing(lines, 'solution', { signed: false })).toEqual(['quantities']);
    expect(stageMissing(lines, 'negotiation', { signed: false })).toEqual(['quantities', 'prices']);
    expect(stageMissing(opp, 'contracting', { signed: false })).toEqual(['contract_draft']);
  });

  it('an edit queued offline ticks its box at once (outbox replayed on server state)', async () => {
    await db.server.put(row('opportunity', opp, 3));
    let v = await localView();
    expect(stageMissing(v.get('opportunity')!.get('o1')!, 'solution', { signed: false })).toEqual(['products']);
    await enqueue('opportunity.update', { id: 'o1', base_version: 3,
      changes: { products: [{ product: '空调', quantity: 4, unit_price: null }] } });
    v = await localView();
    const o = v.get('opportunity')!.get('o1')!;
    expect(gateChecklist(o, 'solution', { signed: false }).every((x) => x.met)).toBe(true);
    expect(stageMissing(o, 'negotiation', { signed: false })).toEqual(['prices']);
  });

  it('weighted amount rounds to the fen like the server, exactly for big amounts', () => {
    expect(weighted(1000000, 'qualify')).toBe(200000);
    expect(weighted(3, 'solution')).toBe(1); // 1.2 → 1
    expect(weighted(4, 'negotiation')).toBe(2); // 2.4 → 2
    expect(weighted(999999999999999, 'contracting')).toBe(799999999999999); // beyond 2^53 mid-way
    expect(weighted(5, 'lost')).toBe(0);
  });

  it('names what is missing in the rejection in plain words', () => {
    const e = { code: 'stage_requirements_unmet', details: { stage: 'solution', missing: ['products', 'quantities'] } };
    expect(errorText('zh-CN', e)).toBe('进入该阶段的条件未满足：产品明细、每行数量');
    expect(errorText('en', e)).toBe('The stage needs: Product lines, A quantity on every line');
    expect(errorText('zh-CN', { code: 'overpayment', details: { remaining: 150000 } })).toContain('¥1,500.00');
  });
});

describe('deals, payments and receivables (R-S3…R-S5)', () => {
  it('counts queued payments against the contract and pre-checks overpayment', async () => {
    await db.server.bulkPut([
      row('customer', { id: 'c1', name: '春意' }),
      row('deal', { id: 'd1', customer_id: 'c1', contract_no: 'HT-1', amount: 1000000, status: 'signed', paid_total: 300000 }),
      row('payment', { id: 'p1', deal_id: 'd1', customer_id: 'c1', amount: 300000, received_date: '2026-11-02' }),
      row('deal', { id: 'd2', customer_id: 'c1', contract_no: 'HT-2', amount: 500000, status: 'draft', paid_total: 0 }),
    ]);
    let v = await localView();
    expect(receivables(v, 'c1')).toEqual({ signed: 1000000, paid: 300000, outstanding: 700000 });
    await enqueue('payment.create', { id: 'p2', deal_id: 'd1', amount: 200000, received_date: '2026-12-01' });
    v = await localView();
    expect(receivables(v, 'c1').outstanding).toBe(500000);
    const d1 = v.get('deal')!.get('d1')!;
    expect(overpaymentCheck(v, d1, 500000)).toBeNull();
    expect(overpaymentCheck(v, d1, 500001)).toEqual({ remaining: 500000 });
    // signing the draft offline adds it to the receivables
    await enqueue('deal.sign', { id: 'd2', signed_date: '2026-12-01' });
    v = await localView();
    expect(receivables(v, 'c1')).toEqual({ signed: 1500000, paid: 500000, outstanding: 1000000 });
    expect(v.get('deal')!.get('d2')!.signed_date).toBe('2026-12-01');
  });

  it('keeps a contract file with the deal until the sync uploads it', async () => {
    const blob = new Blob(['%PDF-1.4 test'], { type: 'application/pdf' });
    const sha = 'a'.repeat(64);
    await enqueue('deal.create', { id: 'd9', customer_id: 'c1', contract_no: 'HT-9', amount: 100, attachment: sha },
      { photos: [{ sha256: sha, blob }] });
    expect((await db.photos.get(sha))?.uploaded).toBe(0);
  });
});

describe('daily report auto numbers from local data (R-K2)', () => {
  const TZ = 'Asia/Shanghai';
  it('dates follow the org time zone, not UTC', () => {
    expect(orgDate('2026-11-30T17:30:00Z', TZ)).toBe('2026-12-01');
    expect(orgDate('2026-12-01T09:00:00+08:00', TZ)).toBe('2026-12-01');
  });

  it("counts the day's customers, visits, deals and payments, queued ones included", async () => {
    await db.server.bulkPut([
      row('customer', { id: 'c1', name: '春意', owner: ME, created_at: '2026-11-30T18:00:00+00:00' }), // 12-01 02:00 CST
      row('customer', { id: 'c2', name: '浦江', owner: ME, created_at: '2026-11-29T03:00:00+00:00' }),
      row('customer', { id: 'c3', name: '别人的', owner: { id: 'u2' }, created_at: '2026-12-01T03:00:00+00:00' }),
      row('visit', { id: 'v1', customer_id: 'c2', author_id: 'u1', visited_at: '2026-12-01T10:00:00+08:00', verification_status: 'verified' }),
      row('visit', { id: 'v2', customer_id: 'c3', author_id: 'u2', visited_at: '2026-12-01T10:00:00+08:00' }),
      row('visit', { id: 'v3', customer_id: 'c2', author_id: 'u1', visited_at: '2026-11-30T23:59:00+08:00' }),
      row('deal', { id: 'd1', customer_id: 'c2', contract_no: 'HT-1', amount: 800000, status: 'signed', signed_date: '2026-12-01', signed_by_id: 'u1' }),
      row('deal', { id: 'd0', customer_id: 'c2', contract_no: 'HT-0', amount: 1, status: 'signed', signed_date: '2026-11-20', signed_by_id: 'u1' }),
    ]);
    await enqueue('customer.create', { id: 'c4', name: '离线新客户', contacts: [] }, { now: new Date('2026-12-01T08:00:00+08:00') });
    await enqueue('visit.create', { id: 'v4', customer_id: 'c4', visited_at: '2026-12-01T09:00:00+08:00', photo_hashes: [] });
    await enqueue('payment.create', { id: 'p1', deal_id: 'd1', amount: 250000, received_date: '2026-12-01' });
    const v = await localView();
    const a = dailyAuto(v, 'u1', '2026-12-01', TZ);
    expect(a.new_customers.map((c) => c.name).sort()).toEqual(['春意', '离线新客户']);
    expect(a.visits.map((x) => [x.id, x.customer_name, x.verification_status])).toEqual(
      expect.arrayContaining([['v1', '浦江', 'verified'], ['v4', '离线新客户', null]]));
    expect(a.visits).toHaveLength(2);
    expect(a.deals).toEqual([{ id: 'd1', customer_name: '浦江', amount: 800000, contract_no: 'HT-1' }]);
    expect(a.payments).toEqual([{ id: 'p1', customer_name: '浦江', amount: 250000 }]);
    expect(a.counts).toEqual({ new_customers: 2, visits: 2, deals: 1, deal_amount: 800000, payments: 1, payment_amount: 250000 });
  });

  it('saving again for the date replaces the queued report and keeps the synced auto part', async () => {
    await db.server.put(row('daily_report', { id: 'r1', user_id: 'u1', date: '2026-12-01', summary: 'old', plan: '',
      auto: { counts: { visits: 3 } } }));
    await enqueue('daily_report.save', { id: 'r1', date: '2026-12-01', summary: '新的总结', plan: '明天拜访' });
    const v = await localView();
    const r = reportFor(v, 'u1', '2026-12-01')!;
    expect(r.summary).toBe('新的总结');
    expect(r._pending).toBe(true);
    expect(r.auto.counts.visits).toBe(3);
    expect(v.get('daily_report')!.size).toBe(1);
  });
});

describe('my targets (R-K1)', () => {
  it('a drafted target shows as pending and periods are pre-checked', async () => {
    await db.server.put(row('target', { id: 't1', user_id: 'u1', name: '11月', start_date: '2026-11-01', end_date: '2026-11-30',
      status: 'active', visits: 40, actuals: { visits: 30 } }));
    await enqueue('target.save', { id: 't2', name: '12月', start_date: '2026-12-01', end_date: '2026-12-31', new_customers: 5,
      visits: 40, deal_amount: 0, payment_amount: 0 });
    const v = await localView();
    const list = myTargets(v, 'u1');
    expect(list.map((t) => [t.id, t.status])).toEqual([['t2', 'pending'], ['t1', 'active']]);
    expect(targetPeriodProblem(v, 'u1', { id: 'x', start_date: '2026-12-05', end_date: '2026-12-01' })).toEqual({ code: 'invalid_period' });
    expect(targetPeriodProblem(v, 'u1', { id: 'x', start_date: '2026-11-30', end_date: '2026-12-02' })?.code).toBe('target_period_overlap');
    expect(targetPeriodProblem(v, 'u1', { id: 't2', start_date: '2026-12-01', end_date: '2026-12-30' })).toBeNull();
    expect(progress(30, 40)).toBe(75);
    expect(progress(50, 40)).toBe(125);
    expect(progress(5, 0)).toBe(0);
  });
});

describe('update flow never cuts a sync short', () => {
  function statusSignal(initial: any) {
    let value = initial;
    const subs = new Set<(s: any) => void>();
    return { get: () => value, set(s: any) { value = s; subs.forEach((f) => f(s)); }, sub(f: any) { subs.add(f); return () => void subs.delete(f); } };
  }
  const idle = { running: false, phase: 'idle', done: 0, total: 0, lastSync: 't0', error: null, authRequired: false, leader: true };

  it('waits for the running round, runs one more when online, then activates', async () => {
    const st = statusSignal({ ...idle, running: true, phase: 'push' });
    const order: string[] = [];
    const done = applyUpdate({ status: st, isOnline: () => true, roundTimeoutMs: 5000,
      kick: () => { order.push('kick'); queueMicrotask(() => st.set({ ...idle, running: true })); setTimeout(() => st.set({ ...idle, lastSync: 't2' }), 5); },
      activate: async () => { order.push('activate'); } });
    await new Promise((r) => setTimeout(r, 10));
    expect(order).toEqual([]); // the first round is still running
    st.set({ ...idle, lastSync: 't1' });
    await done;
    expect(order).toEqual(['kick', 'activate']);
  });

  it('offline: activates at once, the outbox stays in IndexedDB for the new version', async () => {
    await enqueue('daily_report.save', { id: 'r1', date: '2026-12-01', summary: 's', plan: '' });
    const st = statusSignal(idle);
    let activated = false;
    await applyUpdate({ status: st, isOnline: () => false, kick: () => { throw new Error('no sync offline'); },
      activate: async () => { activated = true; } });
    expect(activated).toBe(true);
    expect(await db.outbox.count()).toBe(1);
    await expect(whenSyncIdle(st)).resolves.toBeUndefined();
  });
});

describe('attachments go up through their own channel before the mutation', () => {
  it('uploads a queued contract PDF to /pipeline/attachments and never through the photo channel', async () => {
    const { Api } = await import('./api');
    const { SyncEngine } = await import('./sync/engine');
    const calls: { method: string; path: string; type?: string; size?: number }[] = [];
    const fetchImpl = (async (path: string, init: any = {}) => {
      calls.push({ method: init.method, path, type: init.headers?.['Content-Type'], size: (init.body as Blob | undefined)?.size });
      if (init.method === 'HEAD') return new Response(null, { status: 404 });
      return new Response('{}', { status: 201 });
    }) as unknown as typeof fetch;
    const api = new Api({ get: async () => ({ user: { id: 'u1', username: 'a', display_name: 'A' }, access_token: 't', refresh_token: 'r' }),
      set: async () => undefined }, fetchImpl);
    const engine = new SyncEngine(api);
    const blob = new Blob(['%PDF-1.4 contract'], { type: 'application/pdf' });
    const sha = 'b'.repeat(64);
    await enqueue('deal.create', { id: 'd1', customer_id: 'c1', contract_no: 'HT-1', amount: 100, attachment: sha },
      { photos: [{ sha256: sha, blob }] });
    await engine.uploadPhotos();
    expect(calls).toEqual([]); // not a visit photo
    await engine.uploadAttachments();
    expect(calls.map((c) => [c.method, c.path])).toEqual([
      ['HEAD', `/api/v1/pipeline/attachments/${sha}`], ['PUT', `/api/v1/pipeline/attachments/${sha}`]]);
    expect(calls[1].type).toBe('application/pdf');
    expect(calls[1].size).toBe(blob.size);
    expect((await db.photos.get(sha))?.uploaded).toBe(1);
    await engine.uploadAttachments();
    expect(calls).toHaveLength(2); // once only
  });
});
