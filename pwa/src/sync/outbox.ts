/**
 * The outbox. Every rep action is one IndexedDB transaction that writes the mutation (whose
 * replay is the optimistic change the view shows) together with anything it carries (photo
 * blobs) and the next mutation id. Mutation ids are consecutive per client (SPEC §12 Push).
 */
import { db, type Mutation, type Rejection } from '../db';
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
    const mut: Outgoing = { id, name, args, client_time: isoLocal(opts.now ?? new Date()), acked: 0 };
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

/** Keep the counters past every id the server has processed, so an id is never reused. */
async function advanceCounters(lastMutationId: number): Promise<void> {
  const prev = ((await db.meta.get('lastMutationId'))?.value as number | undefined) ?? 0;
  if (lastMutationId > prev) await db.meta.put({ key: 'lastMutationId', value: lastMutationId });
  const next = ((await db.meta.get('nextMutationId'))?.value as number | undefined) ?? 1;
  if (next <= lastMutationId) await db.meta.put({ key: 'nextMutationId', value: lastMutationId + 1 });
}

/**
 * Record a push answer, in one transaction: rejected mutations leave the outbox for the
 * rejections inbox (their optimistic effect must stop showing); every other mutation up to the
 * server's `last_mutation_id` is marked acknowledged — never pushed again, no longer pending, but
 * still replayed until the pull brings the server's copy (see `rebase`).
 */
export async function markPushed(lastMutationId: number, rejected: Rejection[] = []): Promise<void> {
  await db.transaction('rw', db.outbox, db.rejections, db.meta, async () => {
    if (rejected.length) {
      await db.rejections.bulkPut(rejected);
      await db.outbox.bulkDelete(rejected.map((r) => r.mutation_id));
    }
    await db.outbox.where('id').belowOrEqual(lastMutationId).modify({ acked: 1 });
    await advanceCounters(lastMutationId);
  });
}

/**
 * The rebase (SPEC §12): the pulled server state contains every mutation up to the pull's
 * `last_mutation_id`, so those leave the outbox; the rest keep being replayed on top. Call it
 * inside the transaction that writes the pulled patch, so no reader ever sees the mutation gone
 * without the server's copy (or both).
 */
export async function rebase(lastMutationId: number): Promise<number> {
  return db.transaction('rw', db.outbox, db.meta, async () => {
    const removed = await db.outbox.where('id').belowOrEqual(lastMutationId).delete();
    await advanceCounters(lastMutationId);
    return removed;
  });
}

/** Mutations still to push, oldest first (the `acked` index keeps primary-key order). */
export function unpushed(limit: number): Promise<Outgoing[]> {
  return db.outbox.where('acked').equals(0).limit(limit).toArray() as Promise<Outgoing[]>;
}

/** What the rep is told is waiting for the network: only what has not reached the server. */
export function pendingCount(): Promise<number> {
  return db.outbox.where('acked').equals(0).count();
}

/** The wire form: `local` stays on the phone. */
export function wire(m: Outgoing): Mutation {
  return { id: m.id, name: m.name, args: m.args, client_time: m.client_time };
}
