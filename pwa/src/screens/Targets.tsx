/**
 * My targets (SPEC R-K1): each period's goals with the server-computed actuals and progress
 * bars; a rep may draft their own target, which waits for the manager's approval.
 */
import { useEffect, useState } from 'preact/hooks';
import { db, type Rejection } from '../db';
import { errorText, formatDate, formatMoney, formatNumber, type Lang, type MessageKey } from '../i18n';
import { uuidv7 } from '../ids';
import { counts, requestSync, useSignal } from '../state';
import { enqueue } from '../sync/outbox';
import type { Entity } from '../sync/replay';
import { TARGET_MEASURES, myTargets, progress, targetPeriodProblem, yuanToFen } from './logic';
import { Card, moneyError, orgTimeZone, todayIn, useT, useView, type Tr } from './ui';

const LABEL: Record<(typeof TARGET_MEASURES)[number], MessageKey> = {
  new_customers: 'goalNewCustomers', visits: 'goalVisits', deal_amount: 'goalDeal', payment_amount: 'goalPayment',
};
const isMoney = (m: string) => m === 'deal_amount' || m === 'payment_amount';

function Measure({ t, m, l, tr }: { t: Entity; m: (typeof TARGET_MEASURES)[number]; l: Lang; tr: Tr }) {
  const goal = Number(t[m]) || 0;
  const actual = t.actuals ? Number(t.actuals[m]) || 0 : null;
  const pct = actual === null ? 0 : progress(actual, goal);
  const fmt = (n: number) => (isMoney(m) ? formatMoney(l, n) : formatNumber(l, n));
  return (
    <div class="measure" data-testid="target-measure" data-measure={m} data-pct={pct}>
      <div class="nums"><span>{tr(LABEL[m]).replace(/（元）| \(¥\)/, '')}</span>
        <span class="money">{actual === null ? '—' : fmt(actual)} / {fmt(goal)} · {pct}%</span></div>
      <div class="bar" role="progressbar" aria-valuenow={pct} aria-valuemin={0} aria-valuemax={100}>
        <div class={pct >= 100 ? 'done' : ''} style={{ width: `${Math.min(100, pct)}%` }} /></div>
      {m === 'visits' && t.actuals && <span class="small muted">{tr('verifiedVisits', { n: t.actuals.verified_visits ?? 0 })}</span>}
    </div>
  );
}

export function MyTargets() {
  const { l, tr } = useT();
  const { v, me } = useView();
  const c = useSignal(counts);
  const tz = orgTimeZone(v);
  const list = me ? myTargets(v, me) : [];
  const [open, setOpen] = useState(false);
  const [rejections, setRejections] = useState<Rejection[]>([]);
  useEffect(() => {
    db.rejections.toArray().then((rs) => setRejections(rs.filter((r) => r.name === 'target.save')));
  }, [c.rejections]);
  return (
    <div class="stack" data-testid="targets">
      {list.length === 0 && <Card><p class="muted">{tr('noTargets')}</p></Card>}
      {list.map((t) => (
        <Card testid="target">
          <div class="row"><b data-testid="target-name">{t.name}</b>
            <span class={`badge-status ${t.status}`} data-testid="target-status" data-status={t.status}>{tr(`ts_${t.status ?? 'pending'}` as MessageKey)}</span>
            {t._pending && <span class="tag">{tr('pendingBadge')}</span>}</div>
          <div class="small muted">{formatDate(l, t.start_date)} – {formatDate(l, t.end_date)}</div>
          {TARGET_MEASURES.map((m) => <Measure t={t} m={m} l={l} tr={tr} />)}
        </Card>
      ))}
      {rejections.map((r) => <p class="error" data-testid="target-rejection">{r.args?.name}: {errorText(l, r.error)}</p>)}
      {open ? <TargetForm tz={tz} onDone={() => setOpen(false)} />
        : <button class="secondary" onClick={() => setOpen(true)} data-testid="draft-target">＋ {tr('draftTarget')}</button>}
    </div>
  );
}

function monthBounds(today: string): [string, string] {
  const [y, m] = today.split('-').map(Number);
  const last = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return [`${today.slice(0, 7)}-01`, `${today.slice(0, 7)}-${String(last).padStart(2, '0')}`];
}

function TargetForm({ tz, onDone }: { tz: string; onDone: () => void }) {
  const { l, tr } = useT();
  const { v, me } = useView();
  const [start0, end0] = monthBounds(todayIn(tz));
  const [f, setF] = useState<Record<string, string>>({ start_date: start0, end_date: end0, new_customers: '', visits: '',
    deal_amount: '', payment_amount: '' });
  const [err, setErr] = useState('');
  const set = (k: string) => (e: any) => setF({ ...f, [k]: e.currentTarget.value });
  async function save(ev: Event) {
    ev.preventDefault();
    setErr('');
    if (!f.name?.trim() || !f.start_date || !f.end_date) return setErr(tr('fillRequired'));
    const args: Record<string, any> = { id: uuidv7(), name: f.name.trim(), start_date: f.start_date, end_date: f.end_date };
    for (const k of ['new_customers', 'visits']) {
      const s = (f[k] || '0').normalize('NFKC').trim();
      if (!/^\d{1,9}$/.test(s)) return setErr(`${tr(LABEL[k as 'visits'])}: ${tr('invalidNumber')}`);
      args[k] = Number(s);
    }
    for (const k of ['deal_amount', 'payment_amount']) {
      const p = yuanToFen(f[k] || '0', { min: 0 });
      if ('error' in p) return setErr(`${tr(LABEL[k as 'deal_amount'])}: ${moneyError(tr, p)}`);
      args[k] = p.fen;
    }
    const problem = targetPeriodProblem(v, me ?? '', args as any);
    if (problem) return setErr(errorText(l, { code: problem.code }));
    await enqueue('target.save', args);
    requestSync();
    onDone();
  }
  return (
    <form class="card" onSubmit={save} data-testid="target-form">
      <h3>{tr('draftTarget')}</h3>
      <p class="small muted">{tr('targetPendingNote')}</p>
      <label>{tr('targetName')} *<input name="target_name" value={f.name ?? ''} onInput={set('name')} /></label>
      <div class="grid2">
        <label>{tr('periodStart')}<input type="date" name="start_date" value={f.start_date} onInput={set('start_date')} /></label>
        <label>{tr('periodEnd')}<input type="date" name="end_date" value={f.end_date} onInput={set('end_date')} /></label>
        <label>{tr('goalNewCustomers')}<input name="new_customers" inputMode="numeric" value={f.new_customers} onInput={set('new_customers')} /></label>
        <label>{tr('goalVisits')}<input name="visits" inputMode="numeric" value={f.visits} onInput={set('visits')} /></label>
        <label>{tr('goalDeal')}<input name="deal_amount" inputMode="decimal" value={f.deal_amount} onInput={set('deal_amount')} /></label>
        <label>{tr('goalPayment')}<input name="payment_amount" inputMode="decimal" value={f.payment_amount} onInput={set('payment_amount')} /></label>
      </div>
      {err && <p class="error" role="alert" data-testid="target-error">{err}</p>}
      <div class="actions">
        <button type="submit" data-testid="save-target">{tr('save')}</button>
        <button type="button" class="secondary" onClick={onDone}>{tr('cancel')}</button>
      </div>
    </form>
  );
}
