import { describe, expect, it } from 'vitest';
import { filterCustomers } from './filter';

describe('customer filter', () => {
  const all = Array.from({ length: 2000 }, (_, i) => ({
    id: String(i), name: `上海${['春意', '浦江', '申城'][i % 3]}${i}号有限公司`, code: `C2026${100000 + i}`,
    status: ['potential', 'intent', 'signed'][i % 3], owner: { id: i % 2 ? 'me' : 'x' }, days_to_reclaim: i % 90,
    co_followers: i % 2 ? [] : [{ user_id: 'me' }],
  }));
  it('filters by text, relation, status and reclaim window', () => {
    const f = { q: '春意', relation: 'owned' as const, status: '', grade: '', reclaimSoon: false };
    const r = filterCustomers(all, f, 'me');
    expect(r.every((c) => c.name.includes('春意') && c.owner.id === 'me')).toBe(true);
    expect(filterCustomers(all, { ...f, q: '', relation: 'co_followed' }, 'me')).toHaveLength(1000);
    expect(filterCustomers(all, { ...f, q: '', relation: 'all', reclaimSoon: true }, 'me').every((c) => c.days_to_reclaim <= 7)).toBe(true);
  });
  it('finds customers by code, case-insensitively, among 2,000', () => {
    const f = { q: 'c2026100010', relation: 'all' as const, status: '', grade: '', reclaimSoon: false };
    expect(filterCustomers(all, f, 'me').map((c) => c.code)).toEqual(['C2026100010']);
    expect(filterCustomers(all, { ...f, q: '申城99' }, 'me').every((c) => c.name.includes('申城99'))).toBe(true);
  });
});
