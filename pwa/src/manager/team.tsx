/** Team customers with bulk transfer (R-T1) and the hand-over of leavers' customers (R-U2). */
import { useMemo, useState } from 'preact/hooks';
import { ApiError } from '../api';
import { errorText, formatDate, formatMoney, formatNumber, t, type MessageKey } from '../i18n';
import { api, online, requestSync, useSignal, view } from '../state';
import type { Entity } from '../sync/replay';
import { Panel, reasonOf, Status, useOnline, useTeam, values } from './common';
import { useMT } from './i18n';

const MAX_BATCH = 500; // the endpoint's limit per request

/** Transfer form for a selection; the answer (or the quota's "fits") is shown in place. */
function TransferBar({ ids, onDone }: { ids: string[]; onDone: () => void }) {
  const { l, m } = useMT();
  const on = useSignal(online);
  const { members } = useTeam();
  const receivers = members.filter((u) => u.role === 'rep' || u.role === 'manager');
  const [to, setTo] = useState('');
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  async function submit() {
    if (!to || reason.trim().length < 2 || ids.length === 0) return setMsg({ ok: false, text: m('required') });
    setBusy(true);
    setMsg(null);
    try {
      const r = await api.json<any>('POST', '/api/v1/customers/transfer',
        { customer_ids: ids.slice(0, MAX_BATCH), to_user_id: to, reason: reason.trim() });
      const parts = [m('transferred', { n: r.transferred?.length ?? 0 })];
      if (r.pending_approvals?.length) parts.push(m('waitingApproval', { n: r.pending_approvals.length }));
      setMsg({ ok: true, text: parts.join('；') });
      requestSync();
      onDone();
    } catch (e) {
      if (e instanceof ApiError && e.code === 'quota_exceeded') {
        const d = e.details as any;
        setMsg({ ok: false, text: m('quotaFits', { fits: d.fits ?? 0, count: d.count ?? '', limit: d.limit ?? '' }) });
      } else setMsg({ ok: false, text: e instanceof ApiError ? errorText(l, e) : reasonOf(l, e) });
    } finally {
      setBusy(false);
    }
  }
  return (
    <div class="bulkbar" data-testid="transfer-bar">
      <b data-testid="selected-count" data-count={ids.length}>{m('selected', { n: ids.length })}</b>
      <label>{m('transferTo')}<select value={to} onChange={(e) => setTo(e.currentTarget.value)} data-testid="transfer-to">
        <option value="">—</option>
        {receivers.map((u) => <option value={u.id}>{u.display_name}</option>)}
      </select></label>
      <label>{m('reason')}<input value={reason} onInput={(e) => setReason(e.currentTarget.value)} data-testid="transfer-reason" /></label>
      <button disabled={busy || !on || ids.length === 0} onClick={submit} data-testid="transfer-submit">{m('transfer')}</button>
      {!on && <span class="muted small">{m('needsOnline')}</span>}
      {msg && <p class={msg.ok ? 'success' : 'error'} role={msg.ok ? 'status' : 'alert'} data-testid="transfer-message">{msg.text}</p>}
    </div>
  );
}

export function TeamCustomers() {
  const { l, m } = useMT();
  const v = useSignal(view);
  const { members } = useTeam(true);
  const [owner, setOwner] = useState('');
  const [q, setQ] = useState('');
  const [picked, setPicked] = useState<Set<string>>(new Set());
  const [shown, setShown] = useState(100);
  const memberIds = useMemo(() => new Set(members.map((u) => String(u.id))), [members]);
  const rows = useMemo(() => {
    const needle = q.trim().toLowerCase();
    return values(v, 'customer')
      .filter((c) => !c.voided_at && !c.pool && c.owner && memberIds.has(String(c.owner.id)))
      .filter((c) => !owner || c.owner.id === owner)
      .filter((c) => !needle || String(c.name).toLowerCase().includes(needle) || String(c.code ?? '').toLowerCase().includes(needle))
      .sort((a, b) => String(a.owner.display_name).localeCompare(String(b.owner.display_name), 'zh') || String(a.code).localeCompare(String(b.code)));
  }, [v, memberIds, owner, q]);
  const toggle = (id: string) => {
    const next = new Set(picked);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setPicked(next);
  };
  const allPicked = rows.length > 0 && rows.slice(0, MAX_BATCH).every((c) => picked.has(c.id));
  return (
    <Panel title={m('team')} testid="team-customers">
      <div class="filters">
        <label>{m('owner')}<select value={owner} onChange={(e) => { setOwner(e.currentTarget.value); setPicked(new Set()); }} data-testid="owner-filter">
          <option value="">{m('allOwners')}</option>
          {members.map((u) => <option value={u.id}>{u.display_name}{u.active === false ? ' ✕' : ''}</option>)}
        </select></label>
        <label>{m('name')}<input type="search" value={q} onInput={(e) => setQ(e.currentTarget.value)} /></label>
        <span class="muted small" data-testid="team-total" data-count={rows.length}>{m('total', { n: formatNumber(l, rows.length) })}</span>
      </div>
      <TransferBar ids={[...picked]} onDone={() => setPicked(new Set())} />
      <div class="tbl-wrap"><table class="tbl">
        <thead><tr>
          <th><input type="checkbox" checked={allPicked} aria-label={m('selectAll')} data-testid="select-all"
            onChange={() => setPicked(allPicked ? new Set() : new Set(rows.slice(0, MAX_BATCH).map((c) => c.id)))} /></th>
          <th>{m('name')}</th><th>{m('owner')}</th><th>{m('status')}</th><th class="num">{m('visits')}</th>
          <th class="num">{m('dealAmount')}</th><th>{m('daysToReclaim')}</th>
        </tr></thead>
        <tbody>{rows.slice(0, shown).map((c: Entity) => (
          <tr data-testid="team-customer" data-id={c.id}>
            <td><input type="checkbox" checked={picked.has(c.id)} onChange={() => toggle(c.id)} /></td>
            <td><a href={`#/customer/${c.id}`}>{c.name}</a> <span class="muted small">{c.code}</span></td>
            <td>{c.owner?.display_name}</td>
            <td>{t(l, `st_${c.status ?? 'potential'}` as MessageKey)}</td>
            <td class="num">{formatNumber(l, c.visit_count ?? 0)}</td>
            <td class="num">{formatMoney(l, c.deal_total ?? 0)}</td>
            <td>{typeof c.days_to_reclaim === 'number' && c.days_to_reclaim <= 30 ? <span class="warn">{c.days_to_reclaim}d</span> : ''}</td>
          </tr>
        ))}</tbody>
      </table></div>
      {rows.length > shown && <button class="secondary" onClick={() => setShown(shown + 300)}>+{formatNumber(l, rows.length - shown)}</button>}
    </Panel>
  );
}

export function Handover() {
  const { l, m } = useMT();
  const r = useOnline<any>('/api/v1/customers/handover');
  const items: any[] = r.data?.items ?? [];
  const byLeaver = useMemo(() => {
    const groups = new Map<string, { leaver: any; deadline: string; overdue: boolean; rows: any[] }>();
    for (const it of items) {
      const g = groups.get(it.leaver.id) ?? { leaver: it.leaver, deadline: it.deadline, overdue: it.overdue, rows: [] as any[] };
      g.rows.push(it);
      groups.set(it.leaver.id, g);
    }
    return [...groups.values()];
  }, [r.data]);
  const [picked, setPicked] = useState<Set<string>>(new Set());
  const toggle = (id: string) => {
    const next = new Set(picked);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setPicked(next);
  };
  return (
    <Panel title={m('leavers')} testid="handover">
      <Status loaded={r} />
      {r.data && items.length === 0 && <p class="muted">{m('noLeavers')}</p>}
      {items.length > 0 && <TransferBar ids={[...picked]} onDone={() => { setPicked(new Set()); r.reload(); }} />}
      {byLeaver.map((g) => (
        <section class="stack" data-testid="leaver" data-id={g.leaver.id}>
          <div class="panel-head">
            <h3>{g.leaver.display_name} <span class="muted small">{g.leaver.department}</span></h3>
            <span class={g.overdue ? 'error small' : 'muted small'}>{g.overdue ? m('overdue') : m('deadline', { when: formatDate(l, g.deadline) })}</span>
            <button class="small secondary" onClick={() => setPicked(new Set([...picked, ...g.rows.map((x) => x.customer.id)]))}>{m('selectAll')}</button>
          </div>
          <div class="tbl-wrap"><table class="tbl"><tbody>{g.rows.map((it) => (
            <tr data-testid="handover-customer" data-id={it.customer.id}>
              <td><input type="checkbox" checked={picked.has(it.customer.id)} onChange={() => toggle(it.customer.id)} /></td>
              <td>{it.customer.name} <span class="muted small">{it.customer.code}</span></td>
              <td class="num">{formatMoney(l, it.customer.receivables ?? 0)}</td>
              <td class="small muted">{it.returns_to_pool ? m('returnsToPool') : m('staysOnList')}</td>
            </tr>
          ))}</tbody></table></div>
        </section>
      ))}
    </Panel>
  );
}
