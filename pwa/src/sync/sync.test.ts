import 'fake-indexeddb/auto';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { Api, type Session } from '../api';
import { FieldDb, db, getMeta, useDatabase } from '../db';
import Dexie from 'dexie';
import { enqueue, markPushed, pendingCount, rebase } from './outbox';
import { buildView } from './replay';
import { SyncEngine, applyPage, clientId, electLeader, resolveRejection } from './engine';
import { sessions, login, logout, pendingWork } from '../session';

let n = 0;
beforeEach(async () => {
  useDatabase(new FieldDb(`test-${++n}`));
  await db.open();
});

const ME = { id: 'u1', display_name: 'Alice' };

/** A tiny in-memory sync server speaking SPEC §12. */
class FakeServer {
  last = 0;
  version = 0;
  rows = new Map<string, any>();
  rejections: any[] = [];
  photos = new Set<string>();
  pushes: any[] = [];
  fail503 = 0;
  failNetwork = 0;
  /** The signal drops right after the push: this many pulls fail at the network. */
  failPull = 0;
  expired = false;
  refreshOk = true;
  rejectNames = new Set<string>();
  fetch = async (path: string, init: any = {}): Promise<Response> => {
    if (this.failNetwork > 0) {
      this.failNetwork--;
      throw new TypeError('Failed to fetch');
    }
    const auth = init.headers?.Authorization ?? '';
    if (path === '/api/v1/auth/refresh') {
      if (!this.refreshOk) return new Response('{"error":{"code":"unauthorized","message":""}}', { status: 401 });
      this.expired = false;
      return Response.json({ access_token: 'a2', refresh_token: 'r2' });
    }
    if (this.expired || !auth) return new Response('{"error":{"code":"unauthorized","message":""}}', { status: 401 });
    if (this.fail503 > 0) {
      this.fail503--;
      return new Response('{"error":{"code":"unavailable","message":""}}', { status: 503 });
    }
    const m = /\/api\/v1\/photos\/(\w+)/.exec(path);
    if (m) {
      if (init.method === 'HEAD') return new Response(null, { status: this.photos.has(m[1]) ? 200 : 404 });
      this.photos.add(m[1]);
      return new Response('{}', { status: 201 });
    }
    const body = init.body ? JSON.parse(init.body) : {};
    if (path === '/api/v1/sync/push') {
      this.pushes.push(body);
      const results = [];
      for (const mut of body.mutations) {
        if (mut.id <= this.last) { results.push({ id: mut.id, status: 'replayed' }); continue; }
        if (mut.id > this.last + 1) break;
        this.last = mut.id;
        if (this.rejectNames.has(mut.name)) {
          const error = { code: 'not_in_pool', message: 'gone', details: {} };
          this.rejections.push({ mutation_id: mut.id, name: mut.name, args: mut.args, error });
          results.push({ id: mut.id, status: 'rejected', error });
          continue;
        }
        if (mut.name === 'customer.create') {
          const { contacts, ...c } = mut.args;
          this.rows.set(`customer:${c.id}`, { entity: 'customer', id: c.id, version: ++this.version,
            data: { ...c, code: `C${this.version}`, owner: ME } });
          for (const ct of contacts ?? []) {
            this.rows.set(`contact:${ct.id}`, { entity: 'contact', id: ct.id, version: ++this.version,
              data: { ...ct, customer_id: c.id } });
          }
        }
        if (mut.name === 'deal.create') {
          this.rows.set(`deal:${mut.args.id}`, { entity: 'deal', id: mut.args.id, version: ++this.version,
            data: { ...mut.args, status: 'draft', code: `D${this.version}` } });
        }
        if (mut.name === 'visit.create') {
          this.rows.set(`visit:${mut.args.id}`, { entity: 'visit', id: mut.args.id, version: ++this.version,
            data: { ...mut.args, verification: { status: this.photos.has(mut.args.photo_hashes[0]) ? 'verified' : 'pending' } } });
        }
        results.push({ id: mut.id, status: 'applied', server: { version: this.version } });
      }
      return Response.json({ last_mutation_id: this.last, results });
    }
    if (path === '/api/v1/sync/pull') {
      if (this.failPull > 0) {
        this.failPull--;
        throw new TypeError('Failed to fetch');
      }
      const since = body.cookie ? Number(body.cookie) : 0;
      const patch = [...this.rows.values()].filter((r) => r.version > since)
        .map((r) => (r.del ? { op: 'del', entity: r.entity, id: r.id } : { op: 'put', ...r }));
      return Response.json({ cookie: String(this.version), reset: since === 0, has_more: false,
        last_mutation_id: this.last, patch, rejections: this.rejections });
    }
    const res = /rejections\/(\d+)\/resolve/.exec(path);
    if (res) {
      this.rejections = this.rejections.filter((r) => r.mutation_id !== Number(res[1]));
      return Response.json({ status: body.action === 'discard' ? 'discarded' : 'applied' });
    }
    return new Response('{}', { status: 404 });
  };
  del(entity: string, id: string) {
    this.rows.set(`${entity}:${id}`, { entity, id, version: ++this.version, del: true });
  }
}

async function setup() {
  const server = new FakeServer();
  await sessions.set({ user: { id: 'u1', username: 'alice', display_name: 'Alice' }, access_token: 'a1', refresh_token: 'r1' } as Session);
  const api = new Api(sessions, server.fetch as any);
  return { server, api, engine: new SyncEngine(api) };
}

describe('outbox', () => {
  it('numbers mutations consecutively and keeps them across a reopen', async () => {
    const a = await enqueue('customer.claim', { customer_id: 'c1' });
    const b = await enqueue('follow_up.create', { id: 'f1', customer_id: 'c1', content: 'x' });
    expect([a.id, b.id]).toEqual([1, 2]);
    db.close();
    await db.open();
    expect(await pendingCount()).toBe(2);
  });

  it('writes photo blobs in the same transaction as the visit', async () => {
    await enqueue('visit.create', { id: 'v1', photo_hashes: ['ab'] }, { photos: [{ sha256: 'ab', blob: new Blob(['x']) }] });
    expect(await db.photos.count()).toBe(1);
    expect((await pendingWork()).photos).toBe(1);
  });

  it('a failed transaction leaves neither the mutation nor the counter', async () => {
    await expect(db.transaction('rw', db.outbox, db.meta, db.photos, async () => {
      await enqueue('customer.claim', { customer_id: 'c1' });
      throw new Error('boom');
    })).rejects.toThrow('boom');
    expect(await pendingCount()).toBe(0);
    expect(await getMeta('nextMutationId', 1)).toBe(1);
  });

  it('the rebase drops only acknowledged mutations and never reuses ids', async () => {
    for (let i = 0; i < 3; i++) await enqueue('customer.claim', { customer_id: `c${i}` });
    await rebase(2);
    expect((await db.outbox.toArray()).map((m) => m.id)).toEqual([3]);
    const next = await enqueue('customer.claim', { customer_id: 'c9' });
    expect(next.id).toBe(4);
  });
});

describe('replay and rebase', () => {
  it('shows the outbox on top of server state', () => {
    const rows = [{ entity: 'customer', id: 'c1', version: 1, data: { id: 'c1', name: 'A', status: 'potential' } }];
    const outbox = [
      { id: 1, name: 'customer.create', client_time: 't', args: { id: 'c2', name: 'B', contacts: [{ id: 'k1', name: 'Z' }] } },
      { id: 2, name: 'customer.update', client_time: 't', args: { id: 'c1', base_version: 1, changes: { status: 'intent' } } },
    ];
    const v = buildView(rows, outbox, { user: ME });
    expect(v.get('customer')!.get('c1')!.status).toBe('intent');
    expect(v.get('customer')!.get('c2')!._pending).toBe(true);
    expect(v.get('contact')!.get('k1')!.customer_id).toBe('c2');
    // the server rows are not mutated
    expect(rows[0].data.status).toBe('potential');
  });

  it('after a pull, acknowledged mutations leave and the rest replay on the new state', async () => {
    await enqueue('customer.update', { id: 'c1', base_version: 1, changes: { notes: 'mine' } });
    await enqueue('customer.update', { id: 'c1', base_version: 1, changes: { region: 'later' } });
    await applyPage({ cookie: 'k', reset: true, has_more: false, last_mutation_id: 1, rejections: [],
      patch: [{ op: 'put', entity: 'customer', id: 'c1', version: 5, data: { id: 'c1', notes: 'mine', region: 'server' } }] });
    const outbox = await db.outbox.toArray();
    expect(outbox.map((m) => m.id)).toEqual([2]);
    const v = buildView(await db.server.toArray(), outbox, { user: ME });
    expect(v.get('customer')!.get('c1')).toMatchObject({ notes: 'mine', region: 'later' });
  });

  it('a reset replaces server state but keeps the outbox', async () => {
    await applyPage({ cookie: 'a', reset: true, patch: [{ op: 'put', entity: 'customer', id: 'old', version: 1, data: { id: 'old' } }] });
    await enqueue('customer.claim', { customer_id: 'p1' });
    await applyPage({ cookie: 'b', reset: true, last_mutation_id: 0, patch: [{ op: 'put', entity: 'customer', id: 'new', version: 2, data: { id: 'new' } }] });
    expect((await db.server.toArray()).map((r) => r.id)).toEqual(['new']);
    expect(await pendingCount()).toBe(1);
  });

  it('a deleted customer takes its contacts, visits and follow-ups with it', async () => {
    await applyPage({ cookie: 'a', reset: true, patch: [
      { op: 'put', entity: 'customer', id: 'c1', version: 1, data: { id: 'c1' } },
      { op: 'put', entity: 'contact', id: 'k1', version: 1, data: { id: 'k1', customer_id: 'c1' } },
      { op: 'put', entity: 'visit', id: 'v1', version: 1, data: { id: 'v1', customer_id: 'c1' } },
      { op: 'put', entity: 'customer', id: 'c2', version: 1, data: { id: 'c2' } }] });
    await applyPage({ cookie: 'b', patch: [{ op: 'del', entity: 'customer', id: 'c1' }] });
    expect((await db.server.toArray()).map((r) => r.id)).toEqual(['c2']);
  });
});

describe('sync loop', () => {
  it('uploads photos before pushing the visit, then pulls the verified visit', async () => {
    const { server, engine } = await setup();
    await enqueue('customer.create', { id: 'c1', name: 'A', contacts: [{ id: 'k1', name: 'Z' }] });
    await enqueue('visit.create', { id: 'v1', customer_id: 'c1', photo_hashes: ['ab12'] },
      { photos: [{ sha256: 'ab12', blob: new Blob(['jpeg']) }] });
    await engine.sync();
    expect(server.photos.has('ab12')).toBe(true);
    expect(await pendingCount()).toBe(0);
    const visit = await db.server.get(['visit', 'v1']);
    expect(visit!.data.verification.status).toBe('verified');
    expect((await db.photos.get('ab12'))!.uploaded).toBe(1);
    expect(engine.status.lastSync).not.toBeNull();
  });

  it('a rejected mutation leaves the outbox and lands in the rejections inbox', async () => {
    const { server, api, engine } = await setup();
    server.rejectNames.add('customer.claim');
    await enqueue('customer.claim', { customer_id: 'p1' }, { local: { customer: { id: 'p1', name: 'Pool Co' } } });
    await enqueue('customer.create', { id: 'c1', name: 'A' });
    await engine.sync();
    expect(await pendingCount()).toBe(0);
    const rej = await db.rejections.toArray();
    expect(rej).toHaveLength(1);
    expect(rej[0]).toMatchObject({ mutation_id: 1, name: 'customer.claim', error: { code: 'not_in_pool' } });
    const v = buildView(await db.server.toArray(), await db.outbox.toArray(), { user: ME });
    expect(v.get('customer')!.has('p1')).toBe(false);
    // the push strips local-only context
    expect(server.pushes[0].mutations[0]).not.toHaveProperty('local');
    await resolveRejection(api, rej[0], 'discard');
    expect(await db.rejections.count()).toBe(0);
    await engine.sync();
    expect(await db.rejections.count()).toBe(0);
  });

  it('retries with back-off on 503 and network errors without losing the outbox', async () => {
    const { server, engine } = await setup();
    await enqueue('customer.create', { id: 'c1', name: 'A' });
    server.fail503 = 1;
    await expect(engine.sync()).rejects.toBeTruthy();
    expect(engine.status.error).toBe('unavailable');
    expect(engine.backoffMs()).toBe(2000);
    server.failNetwork = 1;
    await expect(engine.sync()).rejects.toBeTruthy();
    expect(engine.backoffMs()).toBe(4000);
    expect(await pendingCount()).toBe(1);
    await engine.sync();
    expect(await pendingCount()).toBe(0);
    expect(engine.backoffMs()).toBe(2000);
  });

  it('a repeated push after a lost answer is harmless (replayed)', async () => {
    const { server, engine } = await setup();
    await enqueue('customer.create', { id: 'c1', name: 'A' });
    await engine.push();
    // pretend the answer was lost: the mutation is still marked unsent
    await db.outbox.put({ id: 1, name: 'customer.create', args: { id: 'c1', name: 'A' }, client_time: 't', acked: 0 });
    await db.meta.put({ key: 'lastMutationId', value: 0 });
    await engine.sync();
    expect(server.rows.size).toBe(1);
    expect(await pendingCount()).toBe(0);
  });

  it('refreshes an expired token; a revoked session asks for the password and keeps the data', async () => {
    const { server, engine } = await setup();
    server.expired = true;
    await enqueue('customer.create', { id: 'c1', name: 'A' });
    await engine.sync();
    expect((await sessions.get())!.access_token).toBe('a2');
    server.expired = true;
    server.refreshOk = false;
    await enqueue('customer.create', { id: 'c2', name: 'B' });
    await expect(engine.sync()).rejects.toThrow('authentication required');
    expect(engine.status.authRequired).toBe(true);
    expect(await pendingCount()).toBe(1);
    expect(await db.server.count()).toBe(1);
  });

  it('concurrent sync requests coalesce into one loop', async () => {
    const { server, engine } = await setup();
    await enqueue('customer.create', { id: 'c1', name: 'A' });
    await Promise.all([engine.sync(), engine.sync(), engine.sync()]);
    expect(server.pushes.length).toBe(1);
  });

  it('only one tab becomes the sync leader (Web Locks)', async () => {
    const held = new Set<string>();
    const queue: (() => void)[] = [];
    vi.stubGlobal('navigator', { onLine: true, locks: {
      request: (name: string, cb: () => Promise<void>) => {
        if (!held.has(name)) { held.add(name); return cb(); }
        return new Promise<void>((resolve) => queue.push(() => { void cb(); resolve(); }));
      },
    } });
    let leaders = 0;
    electLeader(() => leaders++);
    electLeader(() => leaders++);
    await Promise.resolve();
    expect(leaders).toBe(1);
    vi.unstubAllGlobals();
  });

  it('paged pulls with has_more continue with the cookie', async () => {
    const { api } = await setup();
    const calls: any[] = [];
    const pages = [
      { cookie: 'p1', reset: true, has_more: true, last_mutation_id: 0, patch: [{ op: 'put', entity: 'customer', id: 'a', version: 1, data: { id: 'a' } }] },
      { cookie: 'p2', reset: false, has_more: false, last_mutation_id: 0, patch: [{ op: 'put', entity: 'customer', id: 'b', version: 2, data: { id: 'b' } }] },
    ];
    (api as any).json = async (_m: string, _p: string, body: any) => { calls.push(body.cookie); return pages.shift(); };
    const engine = new SyncEngine(api);
    await engine.pull();
    expect(calls).toEqual([null, 'p1']);
    expect(await db.server.count()).toBe(2);
    expect(await getMeta('cookie')).toBe('p2');
  });
});

describe('acknowledged, not yet pulled (rebase)', () => {
  const viewNow = async () => buildView(await db.server.toArray(), await db.outbox.toArray(), { user: ME });

  it('after an acknowledged push and before the pull the rep still sees the new customer and deal', async () => {
    const { server, engine } = await setup();
    await enqueue('customer.create', { id: 'c1', name: '春意空调' });
    await enqueue('deal.create', { id: 'd1', customer_id: 'c1', amount: 1_200_000 });
    await engine.push();
    expect(server.last).toBe(2);
    expect(await pendingCount()).toBe(0); // nothing waits for the network any more
    expect((await db.outbox.toArray()).map((m) => [m.id, m.acked])).toEqual([[1, 1], [2, 1]]);
    expect(await db.server.count()).toBe(0);
    const v = await viewNow();
    expect(v.get('customer')!.get('c1')).toMatchObject({ name: '春意空调', _pending: true });
    expect(v.get('deal')!.get('d1')).toMatchObject({ amount: 1_200_000, customer_id: 'c1' });
    await engine.pull();
    expect(await db.outbox.count()).toBe(0);
    const after = await viewNow();
    expect(after.get('customer')!.get('c1')).toMatchObject({ code: 'C1' });
    expect(after.get('customer')!.get('c1')!._pending).toBeUndefined();
    expect(after.get('deal')!.get('d1')).toMatchObject({ code: 'D2', amount: 1_200_000 });
  });

  it('a pull that fails after the push keeps the record visible and never pushes it again', async () => {
    const { server, engine } = await setup();
    await enqueue('customer.create', { id: 'c1', name: 'A' });
    server.failPull = 2;
    await expect(engine.sync()).rejects.toThrow();
    expect(engine.status.error).toBe('network');
    expect((await viewNow()).get('customer')!.has('c1')).toBe(true);
    expect(await pendingCount()).toBe(0);
    await expect(engine.sync()).rejects.toThrow(); // the next round: still no signal for the pull
    expect((await viewNow()).get('customer')!.has('c1')).toBe(true);
    // a mutation queued meanwhile is the only thing the next push carries
    await enqueue('customer.update', { id: 'c1', base_version: 1, changes: { region: '上海' } });
    await engine.sync();
    expect(server.pushes.map((p) => p.mutations.map((m: any) => m.id))).toEqual([[1], [2]]);
    expect(await db.outbox.count()).toBe(0);
    expect((await db.server.get(['customer', 'c1']))!.data.code).toBe('C1');
  });

  it('the pull removes exactly the mutations up to last_mutation_id, in the transaction that writes the patch', async () => {
    for (let i = 1; i <= 3; i++) await enqueue('customer.update', { id: 'c1', base_version: 1, changes: { n: i } });
    await markPushed(3);
    const page = { cookie: 'k', reset: true, has_more: false, last_mutation_id: 2, rejections: [],
      patch: [{ op: 'put', entity: 'customer', id: 'c1', version: 9, data: { id: 'c1', n: 2 } }] };
    // a failure anywhere in the page leaves neither the patch nor the removal
    const spy = vi.spyOn(db.rejections, 'bulkPut').mockRejectedValueOnce(new Error('quota'));
    await expect(applyPage(page)).rejects.toThrow('quota');
    spy.mockRestore();
    expect(await db.server.count()).toBe(0);
    expect((await db.outbox.toArray()).map((m) => m.id)).toEqual([1, 2, 3]);
    await applyPage(page);
    expect((await db.outbox.toArray()).map((m) => m.id)).toEqual([3]);
    expect((await db.server.get(['customer', 'c1']))!.data.n).toBe(2);
    expect((await viewNow()).get('customer')!.get('c1')!.n).toBe(3); // 3 still replays on top
  });

  it('a paged pull rebases only on its last page; a reset keeps the acknowledged outbox', async () => {
    await applyPage({ cookie: 'a', reset: true, patch: [{ op: 'put', entity: 'customer', id: 'old', version: 1, data: { id: 'old' } }] });
    await enqueue('customer.create', { id: 'c1', name: 'A' });
    await markPushed(1);
    await applyPage({ cookie: 'p1', reset: true, has_more: true, last_mutation_id: 1,
      patch: [{ op: 'put', entity: 'customer', id: 'x', version: 5, data: { id: 'x' } }] });
    expect((await db.server.toArray()).map((r) => r.id)).toEqual(['x']);
    expect((await viewNow()).get('customer')!.has('c1')).toBe(true); // its page has not come yet
    await applyPage({ cookie: 'p2', has_more: false, last_mutation_id: 1,
      patch: [{ op: 'put', entity: 'customer', id: 'c1', version: 6, data: { id: 'c1', name: 'A', code: 'C6' } }] });
    expect(await db.outbox.count()).toBe(0);
    expect((await viewNow()).get('customer')!.get('c1')!.code).toBe('C6');
  });

  it('pending counts only what the server has not answered', async () => {
    const { server, engine } = await setup();
    server.rejectNames.add('customer.claim');
    await enqueue('customer.create', { id: 'c1', name: 'A' });
    await enqueue('customer.claim', { customer_id: 'p1' });
    expect(await pendingCount()).toBe(2);
    await engine.push();
    await enqueue('customer.create', { id: 'c2', name: 'B' });
    expect(await pendingCount()).toBe(1);
    expect((await db.outbox.toArray()).map((m) => m.id)).toEqual([1, 3]); // the rejected one left
    expect((await db.rejections.toArray()).map((r) => r.mutation_id)).toEqual([2]);
  });

  it('a retried mutation the server had rejected (replayed with its error) goes to the inbox', async () => {
    const { api } = await setup();
    await enqueue('customer.claim', { customer_id: 'p1' });
    (api as any).json = async () => ({ last_mutation_id: 1, results: [
      { id: 1, status: 'replayed', error: { code: 'not_in_pool', message: '' } }] });
    await new SyncEngine(api).push();
    expect(await db.outbox.count()).toBe(0);
    expect((await db.rejections.get(1))!.error.code).toBe('not_in_pool');
  });

  it('an install on the previous schema upgrades without losing its queued mutation', async () => {
    const name = `upgrade-${n}`;
    const old = new Dexie(name);
    old.version(1).stores({ server: '[entity+id], entity, customer_id', outbox: 'id', rejections: 'mutation_id',
      photos: 'sha256, uploaded', meta: 'key' });
    await old.table('outbox').add({ id: 1, name: 'customer.create', args: { id: 'c1', name: 'A' }, client_time: 't' });
    await old.table('meta').put({ key: 'nextMutationId', value: 2 });
    old.close();
    useDatabase(new FieldDb(name));
    await db.open();
    expect(db.verno).toBe(2);
    expect(await db.outbox.toArray()).toEqual([{ id: 1, name: 'customer.create', args: { id: 'c1', name: 'A' }, client_time: 't', acked: 0 }]);
    expect(await pendingCount()).toBe(1);
    const { server, engine } = await setup();
    await engine.sync();
    expect(server.pushes[0].mutations.map((m: any) => m.id)).toEqual([1]);
    expect(server.pushes[0].mutations[0]).not.toHaveProperty('acked');
    expect((await db.server.get(['customer', 'c1']))!.data.code).toBe('C1');
    expect(await db.outbox.count()).toBe(0);
  });

  it('a new client id drops the old id\'s acknowledged mutations and renumbers unsent ones from 1', async () => {
    await db.meta.put({ key: 'clientId', value: 'old' });
    for (let i = 1; i <= 3; i++) await enqueue('customer.update', { id: 'c1', base_version: 1, changes: { n: i } });
    await markPushed(1);
    await db.meta.delete('clientId');
    const fresh = await clientId();
    expect(fresh).not.toBe('old');
    expect((await db.outbox.toArray()).map((m) => [m.id, m.acked, m.args.changes.n])).toEqual([[1, 0, 2], [2, 0, 3]]);
    expect((await enqueue('customer.claim', { customer_id: 'p' })).id).toBe(3);
    expect(await clientId()).toBe(fresh);
  });

  it('logout after an acknowledged push leaves nothing to replay for the next user', async () => {
    const { server, engine } = await setup();
    await enqueue('customer.create', { id: 'c1', name: 'A' });
    server.failPull = 1;
    await expect(engine.sync()).rejects.toThrow();
    await logout(new Api(sessions, (async () => new Response('{}')) as any));
    expect(await db.outbox.count()).toBe(0);
    expect((await viewNow()).get('customer')!.size).toBe(0);
  });
});

describe('session', () => {
  it('logout wipes the user\'s data and the next login gets a new client id', async () => {
    const { engine } = await setup();
    await engine.sync();
    const before = await getMeta('clientId');
    await enqueue('customer.create', { id: 'c1', name: 'A' });
    await logout(new Api(sessions, (async () => new Response('{}')) as any));
    expect(await pendingCount()).toBe(0);
    expect(await getMeta('clientId', null)).toBeNull();
    const { engine: e2 } = await setup();
    await e2.sync();
    expect(await getMeta('clientId')).not.toBe(before);
  });

  it('refuses another user while this phone holds unsent work of the previous one', async () => {
    const { db: _ } = { db };
    await db.meta.put({ key: 'userId', value: 'u1' });
    await enqueue('customer.create', { id: 'c1', name: 'A' });
    const orig = globalThis.fetch;
    globalThis.fetch = (async () => Response.json({ access_token: 'x', refresh_token: 'y', user: { id: 'u2', username: 'bob', display_name: 'Bob' } })) as any;
    try {
      await expect(login(new Api(sessions), 'bob', 'pw')).rejects.toMatchObject({ code: 'other_user_pending' });
      expect(await pendingCount()).toBe(1);
    } finally {
      globalThis.fetch = orig;
    }
  });
});
