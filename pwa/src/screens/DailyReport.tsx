/**
 * 销售日报 (SPEC R-K2): one per rep and date, writable offline. The day's numbers are counted
 * from what is on the phone until the report has synced; then the server's count is shown
 * (it also sees records made on other devices).
 */
import { useEffect, useState } from 'preact/hooks';
import { formatDate, formatMoney, type MessageKey } from '../i18n';
import { uuidv7 } from '../ids';
import { requestSync } from '../state';
import { enqueue } from '../sync/outbox';
import { dailyAuto, reportFor, type DailyAuto } from './logic';
import { Card, orgTimeZone, todayIn, useT, useView } from './ui';

export function DailyReport() {
  const { l, tr } = useT();
  const { v, me } = useView();
  const tz = orgTimeZone(v);
  const [date, setDate] = useState(todayIn(tz));
  const report = me ? reportFor(v, me, date) : undefined;
  const [summary, setSummary] = useState('');
  const [plan, setPlan] = useState('');
  const [dirty, setDirty] = useState(false);
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    if (dirty) return;
    setSummary(report?.summary ?? '');
    setPlan(report?.plan ?? '');
  }, [date, report?.id, report?.summary, report?.plan]);
  const synced = !!report && !report._pending && !!report.auto;
  const auto: DailyAuto = synced ? report!.auto : dailyAuto(v, me ?? '', date, tz);
  async function save(ev: Event) {
    ev.preventDefault();
    if (!summary.trim()) return;
    await enqueue('daily_report.save', { id: report?.id ?? uuidv7(), date, summary: summary.trim(), plan: plan.trim() });
    setDirty(false);
    setSaved(true);
    requestSync();
  }
  const k = auto.counts;
  return (
    <div class="stack" data-testid="daily-report">
      <form class="card" onSubmit={save} data-testid="daily-report-form">
        <h2>{tr('dailyReport')}</h2>
        <label>{tr('reportDate')}<input type="date" name="report_date" value={date} max={todayIn(tz)}
          onInput={(e) => { setDate(e.currentTarget.value); setDirty(false); setSaved(false); }} /></label>
        {report && (
          <div class="small" data-testid="report-state" data-state={report._pending ? 'pending' : 'synced'}>
            {report._pending ? <span class="tag">{tr('pendingBadge')}</span>
              : <span class="badge-status active">{tr('reportSynced')}</span>}
            {report.submitted_at && !report._pending && <span class="muted"> {tr('submittedAt', { when: formatDate(l, report.submitted_at, true) })}</span>}
          </div>
        )}
        <label>{tr('summary')} *<textarea name="summary" rows={4} value={summary}
          onInput={(e) => { setSummary(e.currentTarget.value); setDirty(true); setSaved(false); }} /></label>
        <label>{tr('plan')}<textarea name="plan" rows={3} value={plan}
          onInput={(e) => { setPlan(e.currentTarget.value); setDirty(true); setSaved(false); }} /></label>
        {saved && <p class="ok small" data-testid="report-saved">{tr('reportSaved')}</p>}
        <button type="submit" data-testid="save-daily-report" disabled={!summary.trim()}>{tr('save')}</button>
      </form>
      <Card title={tr('autoNumbers')} testid="daily-auto">
        <div class="small muted" data-testid="auto-source" data-source={synced ? 'server' : 'local'}>
          {synced ? tr('autoServer') : tr('autoLocal')}</div>
        <div class="stat" data-testid="auto-new-customers" data-n={k.new_customers}><span>{tr('newCustomersN', { n: k.new_customers })}</span></div>
        {auto.new_customers.map((c) => <a class="row small" href={`#/customer/${c.id}`}>{c.name}</a>)}
        <div class="stat" data-testid="auto-visits" data-n={k.visits}><span>{tr('visitsN', { n: k.visits })}</span></div>
        {auto.visits.map((x) => (
          <a class="row small" href={`#/customer/${x.customer_id}`}>{x.customer_name}
            <span class="muted">{x.verification_status ? tr(`v_${x.verification_status}` as MessageKey) : tr('v_waiting')}</span></a>
        ))}
        <div class="stat" data-testid="auto-deals" data-n={k.deals}>
          <span>{tr('dealsN', { n: k.deals, amount: formatMoney(l, k.deal_amount) })}</span></div>
        {auto.deals.map((d) => <div class="row small">{d.customer_name} · {d.contract_no}<span class="money">{formatMoney(l, d.amount)}</span></div>)}
        <div class="stat" data-testid="auto-payments" data-n={k.payments}>
          <span>{tr('paymentsN', { n: k.payments, amount: formatMoney(l, k.payment_amount) })}</span></div>
        {auto.payments.map((p) => <div class="row small">{p.customer_name}<span class="money">{formatMoney(l, p.amount)}</span></div>)}
      </Card>
    </div>
  );
}
