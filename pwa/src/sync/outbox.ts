/**
 * The outbox. Every rep action is one IndexedDB transaction that writes the mutation (whose
 * replay is the optimistic change the view shows) together with anything it carries (photo
 * blobs) and the next mutation id. Mutation ids are consecutive per client (SPEC §12 Push).
 */
import { db, type Mutation } from '../db';
import { isoLocal } from '../ids';

export interface Outgoing extends Mutation {
  /** Local-only context for the optimistic view (e.g. the pool row being claimed); never pushed. */
  local?: any;
}

export interface PhotoInput {
  sha256: string;
  blob: Blob;
}

export async function enqueue(name: string, args: Record<string, any>,
  opts: { local?: any; photos?: PhotoInput[]; now?: Date } = {}): Promise<Outgoing> {
  return db.transaction('rw', db.outbox, db.meta, db.photos, async () => {
    const next = ((await db.meta.get('nextMutationId'))?.value as number | undefined) ?? 1;
    const last = ((await db.meta.get('lastMutationId'))?.value as number | undefined) ?? 0;
    const id = Math.max(next, last + 1);
    const mut: Outgoing = { id, name, args, client_time: isoLocal(opts.now ?? new Date()) };
    if (opts.local !== undefined) mut.local = opts.local;
    for (const p of opts.photos ?? []) {
      if (!(await db.photos.get(p.sha256))) {
        await db.photos.put({ sha256: p.sha256, blob: p.blob, type: p.blob.type || 'image/jpeg', uploaded: 0 });
      }
    }
    await db.outbox.add(mut);
    await db.meta.put({ key: 'nextMutationId', value: id + 1 });
    return mut;
  });
}

/** Drop everything the server has acknowledged (applied, replayed or rejected). */
export async function acknowledge(lastMutationId: number): Promise<number> {
  return db.transaction('rw', db.outbox, db.meta, async () => {
    const removed = await db.outbox.where('id').belowOrEqual(lastMutationId).delete();
    const prev = ((await db.meta.get('lastMutationId'))?.value as number | undefined) ?? 0;
    if (lastMutationId > prev) await db.meta.put({ key: 'lastMutationId', value: lastMutationId });
    const next = ((await db.meta.get('nextMutationId'))?.value as number | undefined) ?? 1;
    if (next <= lastMutationId) await db.meta.put({ key: 'nextMutationId', value: lastMutationId + 1 });
    return removed;
  });
}

export function pendingCount(): Promise<number> {
  return db.outbox.count();
}

/** The wire form: `local` stays on the phone. */
export function wire(m: Outgoing): Mutation {
  return { id: m.id, name: m.name, args: m.args, client_time: m.client_time };
}
