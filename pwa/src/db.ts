/**
 * The phone's local store (Dexie over IndexedDB), SPEC §12:
 *  - `server`: entities exactly as last pulled (key [entity+id]);
 *  - `outbox`: mutations not yet acknowledged, keyed by their sequential mutation id;
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
