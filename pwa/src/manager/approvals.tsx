/** Approvals inbox (SPEC R-T3): what waits for me, decided with `approval.decide`. */
import { useState } from 'preact/hooks';
import { errorText, formatDate, formatMoney, type Lang } from '../i18n';
import { useSignal, view } from '../state';
import type { View } from '../sync/replay';
import { kindText, Panel, runMutation, Status, useOnline } from './common';
import { mt, mtCode, useMT, type MKey } from './i18n';

const MONEY = /amount|total|receivable/;

function nameOf(v: View, id: unknown): string {
  return (v.get('user')?.get(String(id))?.display_name as string) ?? String(id);
}

const KEY_LABELS: Record<string, MKey> = {
  reason: 'reason', user: 'forUser', to_user: 'transferTo', name: 'name', start_date: 'start', end_date: 'end',
  new_customers: 'newCustomers', visits: 'visits', deal_amount: 'dealAmount', payment_amount: 'paymentAmount',
  evidence: 'details', comment: 'comment',
};

function keyLabel(l: Lang, key: string): string {
  if (KEY_LABELS[key]) return mt(l, KEY_LABELS[key]);
  const f = mtCode(l, 'f_', key);
  return f;
}

/** A compact, readable line per payload entry: ids become names, changes show before → after. */
export function payloadSummary(l: Lang, v: View, payload: Record<string, any>, customer?: Record<string, any> | null): [string, string][] {
  const out: [string, string][] = [];
  const before: Record<string, any> = payload?.before && typeof payload.before === 'object' ? payload.before : {};
  for (const [k, val] of Object.entries(payload ?? {})) {
    if (val === null || val === undefined || val === '' || k === 'before' || k === 'user_name') continue;
    // the customer's own name and code are in the card's title already
    if (customer && (k === 'name' || k === 'code') && (val === customer.name || val === customer.code)) continue;
    if (k === 'changes' && typeof val === 'object') {
      for (const [field, change] of Object.entries(val as Record<string, any>)) {
        const old = change && typeof change === 'object' && 'before' in change ? change.before : before[field];
        const after = change && typeof change === 'object' && 'after' in change ? change.after : change;
        out.push([keyLabel(l, field), old !== undefined ? `${old ?? '—'} → ${after ?? '—'}` : String(after)]);
      }
    } else if (/(^|_)user_id$|owner_id$|claimant_id$/.test(k)) {
      out.push([keyLabel(l, k.replace(/_id$/, '')), nameOf(v, val)]);
    } else if (k.endsWith('_id') || k.endsWith('_ids') || k === 'photo_hashes') {
      continue; // opaque ids say nothing to the reader
    } else if (typeof val === 'number' && MONEY.test(k)) {
      out.push([keyLabel(l, k), formatMoney(l, val)]);
    } else if (typeof val === 'object') {
      out.push([keyLabel(l, k), JSON.stringify(val)]);
    } else {
      out.push([keyLabel(l, k), String(val)]);
    }
  }
  return out;
}

function ApprovalCard({ a, onDone }: { a: any; onDone: () => void }) {
  const { l, m } = useMT();
  const v = useSignal(view);
  const [comment, setComment] = useState('');
  const [outcome, setOutcome] = useState('keep');
  const [busy, setBusy] = useState(false);
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  async function decide(decision: 'approve' | 'reject') {
    setBusy(true);
    setMsg(null);
    const args: Record<string, any> = { approval_id: a.id, decision, comment: comment.trim() || null };
    if (a.kind === 'dispute' && decision === 'approve') args.outcome = outcome;
    const answer = await runMutation('approval.decide', args);
    setBusy(false);
    if (answer.status === 'rejected') setMsg({ ok: false, text: m('decisionFailed', { reason: errorText(l, answer.error) }) });
    else if (answer.status === 'queued') setMsg({ ok: true, text: m('decisionQueued') });
    else {
      setMsg({ ok: true, text: m('decisionDone', { decision: m(decision === 'approve' ? 'approve' : 'reject') }) });
      onDone();
    }
  }
  const summary = payloadSummary(l, v, a.payload, a.customer);
  const pending = a.status === 'pending';
  return (
    <article class="approval" data-testid="approval" data-id={a.id} data-kind={a.kind} data-status={a.status}>
      <div class="meta">
        <span class="pill">{kindText(l, a.kind)}</span>
        <b>{a.customer?.name ?? ''}</b>
        <span>{m('requester')}: {a.requester?.display_name ?? nameOf(v, a.requester_id)}</span>
        <span class="muted small">{formatDate(l, a.created_at, true)}</span>
        {a.stages?.length > 1 && <span class="muted small">{a.stages.join(' → ')} ({(a.stage_index ?? 0) + 1}/{a.stages.length})</span>}
        {!pending && <span class="pill">{a.status}</span>}
      </div>
      {summary.length > 0 && <dl class="kv" data-testid="approval-payload">{summary.map(([k, val]) => <><dt>{k}</dt><dd>{val}</dd></>)}</dl>}
      {a.industry_priority && <p class="hint small">{a.industry_priority}</p>}
      {(a.decisions ?? []).map((d: any) => (
        <div class="small muted">{d.decision} · {nameOf(v, d.user_id ?? d.by)} · {d.comment ?? ''} · {formatDate(l, d.at ?? d.decided_at, true)}</div>
      ))}
      {pending && a.can_decide !== false && (
        <>
          {a.kind === 'dispute' && (
            <label>{m('outcome')}<select value={outcome} onChange={(e) => setOutcome(e.currentTarget.value)} data-testid="outcome">
              {['keep', 'reassign', 'cofollow'].map((o) => <option value={o}>{mt(l, `out_${o}` as MKey)}</option>)}
            </select></label>
          )}
          <textarea placeholder={m('comment')} value={comment} onInput={(e) => setComment(e.currentTarget.value)} data-testid="approval-comment" />
          <div class="actions">
            <button class="small" disabled={busy} onClick={() => decide('approve')} data-testid="approve">{m('approve')}</button>
            <button class="small danger" disabled={busy} onClick={() => decide('reject')} data-testid="reject">{m('reject')}</button>
          </div>
        </>
      )}
      {msg && <p class={msg.ok ? 'success' : 'error'} role={msg.ok ? 'status' : 'alert'} data-testid="decision-message">{msg.text}</p>}
    </article>
  );
}

export function Approvals() {
  const { m } = useMT();
  const [box, setBox] = useState<'to_decide' | 'decides'>('to_decide');
  const r = useOnline<any>(box === 'to_decide' ? '/api/v1/approvals?box=to_decide&status=pending&limit=200'
    : '/api/v1/approvals?box=decides&limit=200');
  const items: any[] = (r.data?.items ?? []).filter((a: any) => box === 'to_decide' || a.status !== 'pending');
  return (
    <Panel title={m('approvals')} testid="approvals" extra={
      <div class="chips">
        <button class={box === 'to_decide' ? 'chip on' : 'chip'} onClick={() => setBox('to_decide')}>{m('toDecide')}</button>
        <button class={box === 'decides' ? 'chip on' : 'chip'} onClick={() => setBox('decides')}>{m('decided')}</button>
      </div>}>
      <Status loaded={r} />
      {r.data && items.length === 0 && <p class="muted" data-testid="no-approvals">{m('noApprovals')}</p>}
      {items.map((a) => <ApprovalCard key={a.id} a={a} onDone={() => setTimeout(r.reload, 1500)} />)}
    </Panel>
  );
}
