/** Customer list filtering (must stay under 100 ms for 2,000 customers on a phone). */
import type { Entity } from './sync/replay';

export interface CustomerFilter {
  q: string;
  relation: 'all' | 'owned' | 'co_followed' | 'shared';
  status: string;
  grade: string;
  reclaimSoon: boolean;
}

export function relationOf(c: Entity, userId: string | undefined): 'owned' | 'co_followed' | 'shared' {
  if (c.owner?.id && c.owner.id === userId) return 'owned';
  if ((c.co_followers ?? []).some((f: any) => f.user_id === userId)) return 'co_followed';
  return 'shared';
}

function norm(s: string): string {
  return s.normalize('NFKC').replace(/\s+/g, '').toLowerCase();
}

const collator = new Intl.Collator('zh-CN');

export function filterCustomers(all: Entity[], f: CustomerFilter, userId: string | undefined): Entity[] {
  const q = norm(f.q ?? '');
  const out = all.filter((c) => {
    if (f.relation !== 'all' && relationOf(c, userId) !== f.relation) return false;
    if (f.status && (c.status ?? 'potential') !== f.status) return false;
    if (f.grade && c.grade !== f.grade) return false;
    if (f.reclaimSoon && !(typeof c.days_to_reclaim === 'number' && c.days_to_reclaim <= 7)) return false;
    if (q) {
      const hay = c._search ?? (c._search = norm(`${c.name ?? ''}|${c.short_name ?? ''}|${c.code ?? ''}|${c.name_initials ?? ''}|${c.region ?? ''}`));
      if (!hay.includes(q)) return false;
    }
    return true;
  });
  return out.sort((a, b) => (a._pending === b._pending ? collator.compare(String(a.name), String(b.name)) : a._pending ? -1 : 1));
}
