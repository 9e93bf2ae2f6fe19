/**
 * The phone's local store (Dexie over IndexedDB), SPEC §12:
 *  - `server`: entities exactly as last pulled (key [entity+id]);
 *  - `outbox`: mutations the server state does not contain yet, keyed by their sequential mutation
 *    id. `acked` = 1 once a push was answered (applied/replayed): never pushed again and not counted
 *    as pending, but still replayed on top of server state until a pull whose `last_mutation_id`
 *    covers it brings the server's copy (rebase) — so nothing the rep did vanishes in between;
 *  - `rejections`: rejected mutations the user has not resolved (mirrors the server's list);
 *  - `photos`: photo blobs by SHA-256, kept until uploaded;
 *  - `meta`: client id, pull cookie, last acknowledged mutation id, next mutation id, session.
 * The schema is versioned; a new version adds an upgrade step and never drops the outbox.
 */
import Dexie, { type Table } from 'dexie';

export interface ServerRow {
  entity: string;
  id: string;
  version: number;
  customer_id?: string;
  data: Record<string, any>;
}

export interface Mutation {
  id: number;
  name: string;
  args: Record<string, any>;
  client_time: string;
  /** 0 = still to push; 1 = the server answered it (see the header). Local-only, never pushed. */
  acked?: 0 | 1;
}

export interface Rejection {
  mutation_id: number;
  name: string;
  args: Record<string, any>;
  error: { code: string; message?: string; details?: Record<string, any> };
  /** Set while a resolution is on its way to the server. */
  resolving?: 'discard' | 'retry';
}

export interface PhotoRow {
  sha256: string;
  blob: Blob;
  type: string;
  uploaded: 0 | 1;
}

export interface MetaRow {
  key: string;
  value: any;
}

export class FieldDb extends Dexie {
  server!: Table<ServerRow, [string, string]>;
  outbox!: Table<Mutation, number>;
  rejections!: Table<Rejection, number>;
  photos!: Table<PhotoRow, string>;
  meta!: Table<MetaRow, string>;

  constructor(name = 'fieldcrm') {
    super(name);
    this.version(1).stores({
      server: '[entity+id], entity, customer_id',
      outbox: 'id',
      rejections: 'mutation_id',
      photos: 'sha256, uploaded',
      meta: 'key',
    });
    // v2: `acked` (indexed, so the push and the pending count read only what is still to send).
    // Rows queued by v1 were all unanswered as far as the phone knows: they stay, marked 0; a
    // v1 install that had been answered already gets `replayed` and is marked then.
    this.version(2).stores({ outbox: 'id, acked' }).upgrade((tx) =>
      tx.table('outbox').toCollection().modify((m: Mutation) => {
        if (m.acked !== 1) m.acked = 0;
      }));
  }
}

export let db = new FieldDb();

/** Tests open a fresh database per case. */
export function useDatabase(next: FieldDb): void {
  db = next;
}

export async function getMeta<T = any>(key: string, fallback?: T): Promise<T> {
  const row = await db.meta.get(key);
  return (row ? row.value : fallback) as T;
}

export function setMeta(key: string, value: any): Promise<string> {
  return db.meta.put({ key, value });
}
