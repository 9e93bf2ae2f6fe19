/** Targets editor (R-K1) and the team's daily reports with who has not reported (R-K2). */
import { useMemo, useState } from 'preact/hooks';
import { errorText, formatDate, formatMoney, formatNumber, parseYuanToFen, type Lang } from '../i18n';
import { uuidv7 } from '../ids';
import { useSignal, view } from '../state';
import type { Entity } from '../sync/replay';
import { deskHref, Panel, runMutation, Status, todayIso, useOnline, useTeam, values } from './common';
import { mtCode, useMT, type MKey } from './i18n';

const MEASURES: { key: 'new_customers' | 'visits' | 'deal_amount' | 'payment_amount'; label: MKey; money: boolean }[] = [
  { key: 'new_customers', label: 'newCustomers', money: false },
  { key: 'visits', label: 'visits', money: false },
  { key: 'deal_amount', label: 'dealAmount', money: true },
  { key: 'payment_amount', label: 'paymentAmount', money: true },
];

function yuan(fen: number | null | undefined): string {
  const v = Number(fen ?? 0);
  return v % 100 === 0 ? String(v / 100) : (v / 100).toFixed(2);
}

function Progress({ l, actual, goal, money }: { l: Lang; actual: number; goal: number; money: boolean }) {
  const pct = goal > 0 ? Math.round((actual / goal) * 100) : 0;
  const fmt = (n: number) => (money ? formatMoney(l, n) : formatNumber(l, n));
  return (
    <div class="small" data-pct={pct}>
      <div>{fmt(actual)} / {fmt(goal)} <b>{goal > 0 ? `${pct}%` : ''}</b></div>
      <div class="progressbar"><div style={{ width: `${Math.min(100, pct)}%` }} /></div>
    </div>
  );
}

interface Draft {
  id: string;
  user_id: string;
  name: string;
  start_date: string;
  end_date: string;
  new_customers: string;
  visits: string;
  deal_amount: string;
  payment_amount: string;
}

function monthBounds(): [string, string] {
  const d = new Date();
  const first = new Date(d.getFullYear(), d.getMonth(), 1);
  const last = new Date(d.getFullYear(), d.getMonth() + 1, 0);
  const iso = (x: Date) => `${x.getFullYear()}-${String(x.getMonth() + 1).padStart(2, '0')}-${String(x.getDate()).padStart(2, '0')}`;
  return [iso(first), iso(last)];
}

function TargetForm({ initial, onClose }: { initial: Draft; onClose: () => void }) {
  const { l, m } = useMT();
  const { members } = useTeam();
  const [f, setF] = useState<Draft>(initial);
  const [busy, setBusy] = useState(false);
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const set = (k: keyof Draft) => (e: any) => setF({ ...f, [k]: e.currentTarget.value });
  async function save(ev: Event) {
    ev.preventDefault();
    const deal = parseYuanToFen(f.deal_amount || '0');
    const pay = parseYuanToFen(f.payment_amount || '0');
    const nc = Number(f.new_customers || 0);
    const vi = Number(f.visits || 0);
    if (!f.user_id || !f.name.trim() || !f.start_date || !f.end_date || deal === null || pay === null
      || !Number.isInteger(nc) || !Number.isInteger(vi) || nc < 0 || vi < 0 || deal < 0 || pay < 0) {
      return setMsg({ ok: false, text: m('required') });
    }
    setBusy(true);
    setMsg(null);
    const answer = await runMutation('target.save', {
      id: f.id, user_id: f.user_id, name: f.name.trim(), start_date: f.start_date, end_date: f.end_date,
      new_customers: nc, visits: vi, deal_amount: deal, payment_amount: pay,
    });
    setBusy(false);
    if (answer.status === 'rejected') setMsg({ ok: false, text: errorText(l, answer.error) });
    else if (answer.status === 'queued') setMsg({ ok: true, text: m('queued') });
    else {
      setMsg({ ok: true, text: m('saved') });
      setTimeout(onClose, 600);
    }
  }
  return (
    <form class="stack" onSubmit={save} data-testid="target-form">
      <div class="filters">
        <label>{m('forUser')}<select value={f.user_id} onChange={set('user_id')} name="user_id">
          <option value="">—</option>{members.map((u) => <option value={u.id}>{u.display_name}</option>)}</select></label>
        <label>{m('name')}<input name="name" value={f.name} onInput={set('name')} /></label>
        <label>{m('start')}<input type="date" name="start_date" value={f.start_date} onInput={set('start_date')} /></label>
        <label>{m('end')}<input type="date" name="end_date" value={f.end_date} onInput={set('end_date')} /></label>
      </div>
      <div class="filters">
        {MEASURES.map((x) => (
          <label>{m(x.label)}<input name={x.key} inputMode={x.money ? 'decimal' : 'numeric'} value={f[x.key]} onInput={set(x.key)} /></label>
        ))}
      </div>
      {msg && <p class={msg.ok ? 'success' : 'error'} role={msg.ok ? 'status' : 'alert'} data-testid="target-message">{msg.text}</p>}
      <div class="actions">
        <button type="submit" disabled={busy} data-testid="save-target">{m('saveTarget')}</button>
        <button type="button" class="secondary" onClick={onClose}>{m('cancel')}</button>
      </div>
    </form>
  );
}

function draftOf(t: Entity): Draft {
  return {
    id: t.id, user_id: t.user_id, name: t.name, start_date: t.start_date, end_date: t.end_date,
    new_customers: String(t.new_customers ?? 0), visits: String(t.visits ?? 0),
    deal_amount: yuan(t.deal_amount), payment_amount: yuan(t.payment_amount),
  };
}

/** The approval waiting on a rep's draft (kind `target`), if it has been pulled. */
function approvalFor(approvals: Entity[], t: Entity): string | undefined {
  if (t.approval_id) return String(t.approval_id);
  return approvals.find((a) => a.kind === 'target' && a.status === 'pending' && a.payload?.target_id === t.id)?.id;
}

function DraftActions({ t, approval }: { t: Entity; approval: string | undefined }) {
  const { l, m } = useMT();
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  if (!approval) return <a class="small" href={deskHref('approvals')}>{m('approvals')} →</a>;
  async function decide(decision: 'approve' | 'reject') {
    setBusy(true);
    const answer = await runMutation('approval.decide', { approval_id: approval!, decision, comment: null });
    setBusy(false);
    if (answer.status === 'rejected') setMsg({ ok: false, text: m('decisionFailed', { reason: errorText(l, answer.error) }) });
    else setMsg({ ok: true, text: answer.status === 'queued' ? m('decisionQueued') : m('saved') });
  }
  return (
    <div class="actions" data-testid="draft-actions" data-target={t.id}>
      <button class="small" disabled={busy} onClick={() => decide('approve')} data-testid="approve-draft">{m('approve')}</button>
      <button class="small danger" disabled={busy} onClick={() => decide('reject')}>{m('reject')}</button>
      {msg && <span class={msg.ok ? 'success small' : 'error small'}>{msg.text}</span>}
    </div>
  );
}

export function Targets() {
  const { l, m } = useMT();
  const v = useSignal(view);
  const { members } = useTeam(true);
  const [editing, setEditing] = useState<Draft | null>(null);
  const [when, setWhen] = useState<'current' | 'all'>('current');
  const [who, setWho] = useState('');
  const today = todayIso();
  const team = useMemo(() => new Set(members.map((u) => String(u.id))), [members]);
  const targets = values(v, 'target').filter((t) => !t.voided_at && team.has(String(t.user_id)))
    .filter((t) => when === 'all' || (String(t.start_date) <= today && String(t.end_date) >= today) || t.status === 'pending')
    .filter((t) => !who || t.user_id === who)
    .sort((a, b) => String(a.user_name).localeCompare(String(b.user_name), 'zh') || String(b.start_date).localeCompare(String(a.start_date)));
  const approvals = values(v, 'approval');
  const drafts = targets.filter((t) => t.status === 'pending');
  const [start, end] = monthBounds();
  const blank = (): Draft => ({ id: uuidv7(), user_id: '', name: '', start_date: start, end_date: end,
    new_customers: '', visits: '', deal_amount: '', payment_amount: '' });
  return (
    <div class="stack">
      <Panel title={m('targets')} testid="targets" extra={
        <div class="filters">
          <div class="chips">
            <button class={when === 'current' ? 'chip on' : 'chip'} onClick={() => setWhen('current')} data-testid="targets-current">{m('currentPeriod')}</button>
            <button class={when === 'all' ? 'chip on' : 'chip'} onClick={() => setWhen('all')} data-testid="targets-all">{m('any')}</button>
          </div>
          <select value={who} onChange={(e) => setWho(e.currentTarget.value)} aria-label={m('forUser')}>
            <option value="">{m('allOwners')}</option>{members.map((u) => <option value={u.id}>{u.display_name}</option>)}
          </select>
          {!editing && <button class="small" onClick={() => setEditing(blank())} data-testid="new-target">＋ {m('newTarget')}</button>}
        </div>}>
        {editing && <TargetForm key={editing.id} initial={editing} onClose={() => setEditing(null)} />}
        {targets.length === 0 && <p class="muted">{m('empty')}</p>}
        {targets.length > 0 && (
          <div class="tbl-wrap"><table class="tbl">
            <thead><tr><th>{m('forUser')}</th><th>{m('name')}</th><th>{m('period')}</th><th>{m('status')}</th>
              {MEASURES.map((x) => <th>{m(x.label)}</th>)}<th /></tr></thead>
            <tbody>{targets.map((t) => (
              <tr data-testid="target-row" data-id={t.id} data-status={t.status}>
                <td>{t.user_name}</td><td>{t.name}</td>
                <td class="small">{formatDate(l, t.start_date)} – {formatDate(l, t.end_date)}</td>
                <td>{mtCode(l, 'st_', t.status)}{t._pending ? ' …' : ''}</td>
                {MEASURES.map((x) => (
                  <td><Progress l={l} actual={Number(t.actuals?.[x.key] ?? 0)} goal={Number(t[x.key] ?? 0)} money={x.money} />
                    {x.key === 'visits' && t.actuals?.verified_visits != null &&
                      <div class="muted small">{m('verifiedVisits')}: {formatNumber(l, t.actuals.verified_visits)}</div>}</td>
                ))}
                <td><button class="small secondary" onClick={() => setEditing(draftOf(t))}>{m('edit')}</button></td>
              </tr>
            ))}</tbody>
          </table></div>
        )}
      </Panel>
      <Panel title={m('drafts')} testid="target-drafts">
        {drafts.length === 0 && <p class="muted">{m('empty')}</p>}
        {drafts.map((t) => (
          <div class="row" data-testid="target-draft" data-id={t.id}>
            <b>{t.user_name}</b><span>{t.name}</span>
            <span class="muted small">{formatDate(l, t.start_date)} – {formatDate(l, t.end_date)}</span>
            <span class="small">{t.new_customers} / {t.visits} / {formatMoney(l, t.deal_amount)} / {formatMoney(l, t.payment_amount)}</span>
            <DraftActions t={t} approval={approvalFor(approvals, t)} />
          </div>
        ))}
      </Panel>
    </div>
  );
}

export function DailyReports({ date }: { date: string | null }) {
  const { l, m } = useMT();
  const day = date || todayIso();
  const { departments } = useTeam();
  const [dept, setDept] = useState('');
  const r = useOnline<any>(`/api/v1/daily-reports?date=${day}${dept ? `&department_id=${dept}` : ''}`);
  const reports: any[] = r.data?.reports ?? [];
  const missing: any[] = r.data?.missing ?? [];
  return (
    <div class="stack" data-testid="daily-reports">
      <Panel title={m('daily')} extra={
        <div class="filters">
          <label>{m('date')}<input type="date" value={day} data-testid="daily-date"
            onInput={(e) => { location.hash = deskHref('daily', '', { date: e.currentTarget.value }); }} /></label>
          <label>{m('department')}<select value={dept} onChange={(e) => setDept(e.currentTarget.value)}>
            <option value="">{m('any')}</option>{departments.map((d) => <option value={d.id}>{d.name}</option>)}</select></label>
        </div>}>
        <Status loaded={r} />
        {r.data && (
          <div data-testid="missing-reports" data-count={missing.length}>
            <b>{m('notReported')} ({missing.length})</b>
            {missing.length === 0 ? <p class="success">{m('allReported')}</p>
              : <div class="chips">{missing.map((x) => <span class="chip" data-testid="missing-user">{x.display_name} <span class="muted small">{x.department}</span></span>)}</div>}
          </div>
        )}
      </Panel>
      {reports.map((rep) => (
        <Panel title={rep.user_name} testid="daily-report" extra={<span class="muted small">{m('submittedAt')} {formatDate(l, rep.submitted_at, true)}</span>}>
          {rep.auto?.counts && (
            <div class="chips small">
              <span class="pill">{m('newCustomers')} {rep.auto.counts.new_customers}</span>
              <span class="pill">{m('visits')} {rep.auto.counts.visits}</span>
              <span class="pill">{m('dealAmount')} {formatMoney(l, rep.auto.counts.deal_amount)}</span>
              <span class="pill">{m('paymentAmount')} {formatMoney(l, rep.auto.counts.payment_amount)}</span>
            </div>
          )}
          <dl class="kv">
            <dt>{m('summary')}</dt><dd style={{ whiteSpace: 'pre-wrap' }}>{rep.summary}</dd>
            <dt>{m('plan')}</dt><dd style={{ whiteSpace: 'pre-wrap' }}>{rep.plan}</dd>
          </dl>
          {(rep.auto?.visits ?? []).length > 0 && (
            <div class="small">{rep.auto.visits.map((x: any) => (
              <span class="row"><span>{x.customer_name}</span><span class={`vstatus ${x.verification_status}`}>{mtCode(l, 'v_', x.verification_status)}</span></span>))}</div>
          )}
        </Panel>
      ))}
    </div>
  );
}
