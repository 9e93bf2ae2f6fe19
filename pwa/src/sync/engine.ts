/**
 * The sync loop (SPEC §12, §15): upload photos, push the outbox, pull pages until done.
 * One loop per origin: the tab holding the Web Lock `fieldcrm-sync-leader` runs it; other
 * tabs forward their "sync now" requests over a BroadcastChannel and receive its status.
 */
import { ApiError, AuthRequired, NetworkError, type Api } from '../api';
import { db, getMeta, setMeta, type Rejection } from '../db';
import { uuidv4 } from '../ids';
import { markPushed, rebase, unpushed, wire } from './outbox';

export const SCHEMA_VERSION = 1;
const PUSH_BATCH = 200;
const PULL_LIMIT = 2000;

export interface SyncStatus {
  running: boolean;
  phase: 'idle' | 'photos' | 'push' | 'pull';
  done: number;
  total: number;
  lastSync: string | null;
  error: string | null;
  authRequired: boolean;
  leader: boolean;
}

type Listener = (s: SyncStatus) => void;

export async function clientId(): Promise<string> {
  const id = await getMeta<string | null>('clientId', null);
  if (id) return id;
  return db.transaction('rw', db.outbox, db.meta, async () => {
    const again = (await db.meta.get('clientId'))?.value as string | undefined;
    if (again) return again;
    const fresh = uuidv4();
    // A new client id starts at mutation 1 on the server (logout wipes everything, so normally
    // the outbox is empty here). Anything left over must not wedge the queue: acknowledged
    // mutations belong to the old id, whose pulls would have removed them — the new id's full
    // pull brings their server copy instead; unsent ones are renumbered from 1, in order.
    await db.outbox.where('acked').equals(1).delete();
    const left = await db.outbox.orderBy('id').toArray();
    await db.outbox.clear();
    await db.outbox.bulkAdd(left.map((m, i) => ({ ...m, id: i + 1, acked: 0 as const })));
    await db.meta.bulkPut([{ key: 'clientId', value: fresh }, { key: 'lastMutationId', value: 0 },
      { key: 'nextMutationId', value: left.length + 1 }, { key: 'cookie', value: null }]);
    return fresh;
  });
}

/** Pipeline attachments (contract documents, payment proofs) named by queued mutations. */
export function attachmentHashes(args: Record<string, any>): string[] {
  return [args.attachment, args.contract_draft, args.proof, args.changes?.contract_draft]
    .filter((h): h is string => typeof h === 'string' && h.length === 64);
}

/** Attachments referenced by queued mutations and not uploaded yet. */
async function attachmentsToUpload(): Promise<string[]> {
  const hashes = new Set<string>();
  for (const m of await db.outbox.toArray()) for (const h of attachmentHashes(m.args)) hashes.add(h);
  const out: string[] = [];
  for (const h of hashes) {
    const row = await db.photos.get(h);
    if (row && !row.uploaded) out.push(h);
  }
  return out;
}

/** Photos referenced by queued visits and not uploaded yet. */
async function photosToUpload(): Promise<string[]> {
  const hashes = new Set<string>();
  for (const m of await db.outbox.toArray()) {
    for (const h of (m.args.photo_hashes as string[] | undefined) ?? []) hashes.add(h);
  }
  const out: string[] = [];
  for (const h of hashes) {
    const row = await db.photos.get(h);
    if (row && !row.uploaded) out.push(h);
  }
  return out;
}

export class SyncEngine {
  status: SyncStatus = {
    running: false, phase: 'idle', done: 0, total: 0, lastSync: null, error: null, authRequired: false,
    leader: false,
  };
  private listeners = new Set<Listener>();
  private failures = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private inFlight: Promise<void> | null = null;
  private again = false;

  constructor(private readonly api: Api, private readonly opts: { intervalMs?: number } = {}) {}

  subscribe(fn: Listener): () => void {
    this.listeners.add(fn);
    fn(this.status);
    return () => this.listeners.delete(fn);
  }

  protected emit(patch: Partial<SyncStatus>): void {
    this.status = { ...this.status, ...patch };
    for (const fn of this.listeners) fn(this.status);
  }

  /** One full round. Concurrent calls coalesce into one follow-up round. */
  sync(): Promise<void> {
    if (this.inFlight) {
      this.again = true;
      return this.inFlight;
    }
    this.inFlight = (async () => {
      try {
        do {
          this.again = false;
          await this.round();
        } while (this.again);
      } finally {
        this.inFlight = null;
      }
    })();
    return this.inFlight;
  }

  private async round(): Promise<void> {
    this.emit({ running: true, error: null, done: 0, total: 0 });
    try {
      await this.uploadPhotos();
      await this.uploadAttachments();
      await this.push();
      await this.pull();
      const now = new Date().toISOString();
      await setMeta('lastSync', now);
      this.failures = 0;
      this.emit({ running: false, phase: 'idle', lastSync: now, authRequired: false });
    } catch (e) {
      this.failures += 1;
      let error = 'network';
      if (e instanceof AuthRequired) {
        this.emit({ running: false, phase: 'idle', authRequired: true, error: 'auth' });
        throw e;
      }
      if (e instanceof ApiError) error = e.code;
      else if (!(e instanceof NetworkError)) error = String((e as Error)?.message ?? e);
      this.emit({ running: false, phase: 'idle', error });
      throw e;
    }
  }

  /** Back-off after failures: 2 s, 4 s, … up to 5 min. */
  backoffMs(): number {
    return Math.min(300_000, 2000 * 2 ** Math.max(0, this.failures - 1));
  }

  /** Visit photos, uploaded before the visits that name them. 4xx (not a photo, too large, hash
   *  mismatch): the visit is still pushed; the server keeps it `pending`/`unverified` and says why. */
  uploadPhotos(): Promise<void> {
    return this.uploadBlobs(photosToUpload, '/api/v1/photos', 'image/jpeg');
  }

  /** Contract documents and proofs go through their own content-addressed channel, before the
   *  mutations that name them (as photos do), so the deal arrives with its file. 4xx (not a PDF
   *  or image, over 20 MB): the deal still goes; it shows the file as missing. */
  uploadAttachments(): Promise<void> {
    return this.uploadBlobs(attachmentsToUpload, '/api/v1/pipeline/attachments', 'application/pdf');
  }

  private async uploadBlobs(pending: () => Promise<string[]>, base: string, fallbackType: string): Promise<void> {
    const hashes = await pending();
    if (!hashes.length) return;
    this.emit({ phase: 'photos', done: 0, total: hashes.length });
    let done = 0;
    for (const h of hashes) {
      const row = await db.photos.get(h);
      if (!row) continue;
      const head = await this.api.raw('HEAD', `${base}/${h}`);
      if (head.status !== 200) {
        const res = await this.api.raw('PUT', `${base}/${h}`, row.blob, row.type || fallbackType);
        if (res.status >= 500) throw new ApiError(res.status, `http_${res.status}`, '');
      }
      await db.photos.update(h, { uploaded: 1 });
      this.emit({ done: ++done });
    }
  }

  async push(): Promise<void> {
    const cid = await clientId();
    for (;;) {
      // Acknowledged mutations stay in the outbox (replayed until the pull) but are never resent.
      const batch = await unpushed(PUSH_BATCH);
      if (!batch.length) return;
      this.emit({ phase: 'push', total: batch.length, done: 0 });
      const answer = await this.api.json<any>('POST', '/api/v1/sync/push', {
        client_id: cid, schema_version: SCHEMA_VERSION, mutations: batch.map(wire),
      });
      const byId = new Map(batch.map((m) => [m.id, m]));
      const rejected: Rejection[] = [];
      for (const r of answer.results ?? []) {
        // A retry of a mutation rejected earlier answers `replayed` with the stored error.
        if (r.status === 'rejected' || (r.status === 'replayed' && r.error)) {
          const m = byId.get(r.id);
          rejected.push({ mutation_id: r.id, name: m?.name ?? '', args: m?.args ?? {}, error: r.error });
        }
      }
      const last = answer.last_mutation_id ?? 0;
      await markPushed(last, rejected);
      this.emit({ done: batch.length });
      // The server stopped before this batch (a gap, or nothing new): let the pull realign.
      if (last < batch[0].id) return;
    }
  }

  async pull(): Promise<void> {
    const cid = await clientId();
    let cookie = await getMeta<string | null>('cookie', null);
    let pages = 0;
    this.emit({ phase: 'pull', done: 0, total: 1 });
    for (;;) {
      const page = await this.api.json<any>('POST', '/api/v1/sync/pull', {
        client_id: cid, schema_version: SCHEMA_VERSION, cookie, limit: PULL_LIMIT,
      });
      await applyPage(page);
      cookie = page.cookie;
      pages += 1;
      this.emit({ done: pages, total: page.has_more ? pages + 1 : pages });
      if (!page.has_more) return;
    }
  }

  // ---- the loop -------------------------------------------------------------------------------

  /** Ask for a sync soon (coalesced). */
  kick(delayMs = 0): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), delayMs);
  }

  private async tick(): Promise<void> {
    this.timer = null;
    if (this.status.authRequired) return;
    if (typeof navigator !== 'undefined' && navigator.onLine === false) return;
    try {
      await this.sync();
      this.kick(this.opts.intervalMs ?? 180_000);
    } catch (e) {
      if (e instanceof AuthRequired) return;
      this.kick(this.backoffMs());
    }
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** After a new password: resume. */
  resumeAfterLogin(): void {
    this.emit({ authRequired: false, error: null });
    this.kick(0);
  }
}

/**
 * Apply one pull page in one transaction: reset (server state only — the outbox stays), puts,
 * deletes (with children), rejections and, on the page that completes the pull, the rebase: the
 * mutations up to `last_mutation_id` leave the outbox together with the patch that contains
 * them. Earlier pages of a paged pull may not hold their entities yet, so they keep replaying.
 */
export async function applyPage(page: any): Promise<void> {
  await db.transaction('rw', [db.server, db.rejections, db.outbox, db.meta], async () => {
    if (page.reset) await db.server.clear();
    const puts: any[] = [];
    for (const p of page.patch ?? []) {
      if (p.op === 'put') {
        puts.push({ entity: p.entity, id: String(p.id), version: p.version ?? 0,
          customer_id: p.entity === 'customer' ? String(p.id) : p.data?.customer_id ?? undefined, data: p.data });
      } else if (p.op === 'del') {
        if (puts.length) await db.server.bulkPut(puts.splice(0));
        await db.server.delete([p.entity, String(p.id)]);
        if (p.entity === 'customer') await db.server.where('customer_id').equals(String(p.id)).delete();
      }
    }
    if (puts.length) await db.server.bulkPut(puts);
    if (Array.isArray(page.rejections)) {
      const keep = new Map((await db.rejections.toArray()).map((r) => [r.mutation_id, r]));
      await db.rejections.clear();
      await db.rejections.bulkPut(page.rejections.map((r: any) => ({
        mutation_id: r.mutation_id, name: r.name, args: r.args ?? {}, error: r.error ?? { code: 'unknown' },
        ...(keep.get(r.mutation_id)?.resolving ? { resolving: keep.get(r.mutation_id)!.resolving } : {}),
      })));
    }
    await db.meta.put({ key: 'cookie', value: page.cookie ?? null });
    if (typeof page.last_mutation_id === 'number' && !page.has_more) await rebase(page.last_mutation_id);
  });
}

/**
 * Run `fn` only in the leader tab. Returns a release function. Without Web Locks (old browsers,
 * tests) every tab is its own leader.
 */
export function electLeader(onLeader: () => void): void {
  const locks = (typeof navigator !== 'undefined' ? (navigator as any).locks : undefined) as LockManager | undefined;
  if (!locks?.request) {
    onLeader();
    return;
  }
  void locks.request('fieldcrm-sync-leader', () => new Promise<void>(() => onLeader()));
}

/** Resolve a rejection online: discard it, or retry it with edited args. */
export async function resolveRejection(api: Api, r: Rejection, action: 'discard' | 'retry',
  mutation?: { name: string; args: Record<string, any> }): Promise<{ status: string; error?: any }> {
  const cid = await clientId();
  const body: any = { client_id: cid, action };
  if (action === 'retry') body.mutation = mutation;
  const answer = await api.json<any>('POST', `/api/v1/sync/rejections/${r.mutation_id}/resolve`, body);
  if (answer.status === 'rejected') {
    await db.rejections.put({ ...r, name: mutation?.name ?? r.name, args: mutation?.args ?? r.args, error: answer.error });
  } else {
    await db.rejections.delete(r.mutation_id);
  }
  return answer;
}
