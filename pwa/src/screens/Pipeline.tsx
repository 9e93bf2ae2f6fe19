/**
 * Opportunities, deals and payments on the phone (SPEC R-S1…R-S5, §15): the list on the customer
 * detail with weighted amounts, creating an opportunity, the stage change with its gate
 * checklist, deal entry and signing, payment entry with receivables. Every action is queued
 * (works offline); the checklist and the overpayment check are computed from local data so the
 * rep knows beforehand, and the server decides on sync — its rejections are shown here too.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { db, type Rejection } from '../db';
import { errorText, formatDate, formatMoney, type MessageKey } from '../i18n';
import { uuidv7 } from '../ids';
import { api, counts, online, requestSync, useSignal } from '../state';
import { resolveRejection } from '../sync/engine';
import { enqueue, type PhotoInput } from '../sync/outbox';
import type { Entity } from '../sync/replay';
import {
  GATE_ITEMS, STAGES, WIN_RATES, dealsOf, fenToYuanText, gateChecklist, orderTotal, overpaymentCheck, paidOn,
  receivables, signedDealFor, weighted, yuanToFen, type ProductLine, type Stage,
} from './logic';
import {
  Card, MAX_ATTACHMENT, go, moneyError, orgTimeZone, routeArgs, sha256Hex, stageName, todayIn, useT, useView,
  useYuan, values, type Tr,
} from './ui';

// ---- on the customer detail -----------------------------------------------------------------------

export function PipelineCards({ customerId }: { customerId: string }) {
  const { l, tr } = useT();
  const { v } = useView();
  const opps = values(v, 'opportunity').filter((o) => o.customer_id === customerId && !o.voided_at);
  const deals = dealsOf(v, customerId);
  const ar = receivables(v, customerId);
  const openWeighted = opps.filter((o) => o.stage !== 'won' && o.stage !== 'lost')
    .reduce((s, o) => s + weighted(Number(o.amount) || 0, o.stage), 0);
  return (
    <>
      <Card title={tr('opportunities')} testid="opportunities">
        {opps.map((o) => (
          <a class="row" href={`#/opportunity/${o.id}`} data-testid="opportunity-item" data-id={o.id} data-stage={o.stage}>
            <b>{o.name}</b>{o._pending && <span class="tag">{tr('pendingBadge')}</span>}
            <span class="badge-status">{stageName(tr, o.stage)} · {WIN_RATES[o.stage as Stage] ?? 0}%</span>
            <span class="money">{formatMoney(l, o.amount)}</span>
            <span class="muted small money" data-testid="weighted">{tr('weightedAmount')} {formatMoney(l, weighted(Number(o.amount) || 0, o.stage))}</span>
          </a>
        ))}
        {opps.length > 0 && <div class="small muted">{tr('weightedAmount')}: <span class="money">{formatMoney(l, openWeighted)}</span></div>}
        <button class="secondary" onClick={() => go(`new-opportunity/${customerId}`)} data-testid="new-opportunity">＋ {tr('newOpportunity')}</button>
      </Card>
      <Card title={tr('deals')} testid="deals">
        <div class="grid2 small" data-testid="receivables" data-outstanding={ar.outstanding}>
          <span>{tr('contractAmount')}: <b class="money">{formatMoney(l, ar.signed)}</b></span>
          <span>{tr('paid')}: <b class="money">{formatMoney(l, ar.paid)}</b></span>
          <span>{tr('receivables')}: <b class="money warn" data-testid="receivables-amount">{formatMoney(l, ar.outstanding)}</b></span>
        </div>
        {deals.map((d) => <DealRow d={d} />)}
        <button class="secondary" onClick={() => go(`deal/${customerId}`)} data-testid="new-deal">＋ {tr('newDeal')}</button>
      </Card>
    </>
  );
}

function DealRow({ d }: { d: Entity }) {
  const { l, tr } = useT();
  const { v } = useView();
  const paid = paidOn(v, d.id);
  async function sign() {
    await enqueue('deal.sign', { id: d.id, signed_date: todayIn(orgTimeZone(v)) });
    requestSync();
  }
  return (
    <div class="row" data-testid="deal-item" data-id={d.id} data-status={d.status}>
      <b>{d.contract_no}</b>{d._pending && <span class="tag">{tr('pendingBadge')}</span>}
      <span class={`badge-status ${d.status}`}>{d.status === 'signed' ? tr('dealSigned') : tr('dealDraft')}</span>
      <span class="money">{formatMoney(l, d.amount)}</span>
      {d.signed_date && <span class="muted small">{formatDate(l, d.signed_date)}</span>}
      {d.status === 'signed' && <span class="small">{tr('paid')} <span class="money">{formatMoney(l, paid)}</span> · {tr('outstanding')} <b class="money" data-testid="deal-outstanding">{formatMoney(l, (Number(d.amount) || 0) - paid)}</b></span>}
      {d.attachment && <span class="small muted">{d.attachment_uploaded ? tr('fileUploaded') : d._pending ? tr('fileQueued') : tr('fileMissing')}</span>}
      <span class="actions">
        {d.status !== 'signed' && <button class="small" onClick={sign} data-testid="sign-deal">{tr('signDeal')}</button>}
        {d.status === 'signed' && (Number(d.amount) || 0) > paid &&
          <button class="small secondary" onClick={() => go(`payment/${d.id}`)} data-testid="new-payment">＋ {tr('newPayment')}</button>}
      </span>
    </div>
  );
}

// ---- shared form pieces ----------------------------------------------------------------------------

type Line = { product: string; quantity: string; unit_price: string };

function toLines(products: ProductLine[] | undefined): Line[] {
  return (products ?? []).map((p) => ({ product: p.product ?? '', quantity: p.quantity == null ? '' : String(p.quantity),
    unit_price: p.unit_price == null ? '' : fenToYuanText(p.unit_price) }));
}

/** Typed lines → the server's product lines, or the first problem. Empty rows are dropped. */
export function parseLines(lines: Line[]): { lines: ProductLine[] } | { error: 'quantity' | 'price' } {
  const out: ProductLine[] = [];
  for (const l of lines) {
    if (!l.product.trim()) continue;
    let quantity: number | null = null;
    if (l.quantity.trim()) {
      const q = l.quantity.normalize('NFKC').trim();
      if (!/^\d{1,9}$/.test(q) || Number(q) < 1) return { error: 'quantity' };
      quantity = Number(q);
    }
    let unit_price: number | null = null;
    if (l.unit_price.trim()) {
      const p = yuanToFen(l.unit_price, { min: 0 });
      if ('error' in p) return { error: 'price' };
      unit_price = p.fen;
    }
    out.push({ product: l.product.trim(), quantity, unit_price });
  }
  return { lines: out };
}

function LinesEditor({ lines, setLines, tr }: { lines: Line[]; setLines: (l: Line[]) => void; tr: Tr }) {
  const set = (i: number, k: keyof Line) => (e: any) => setLines(lines.map((x, j) => (j === i ? { ...x, [k]: e.currentTarget.value } : x)));
  return (
    <div class="lines" data-testid="product-lines">
      <div class="line small muted"><span>{tr('product')}</span><span>{tr('quantity')}</span><span>{tr('unitPrice')}</span><span /></div>
      {lines.map((x, i) => (
        <div class="line">
          <input name={`product-${i}`} value={x.product} onInput={set(i, 'product')} aria-label={tr('product')} />
          <input name={`quantity-${i}`} inputMode="numeric" value={x.quantity} onInput={set(i, 'quantity')} aria-label={tr('quantity')} />
          <input name={`price-${i}`} inputMode="decimal" value={x.unit_price} onInput={set(i, 'unit_price')} aria-label={tr('unitPrice')} />
          <button type="button" class="small secondary" onClick={() => setLines(lines.filter((_, j) => j !== i))}>✕</button>
        </div>
      ))}
      <button type="button" class="small secondary" onClick={() => setLines([...lines, { product: '', quantity: '', unit_price: '' }])}
        data-testid="add-line">＋ {tr('addLine')}</button>
    </div>
  );
}

/** A chosen file, hashed for the content-addressed channel; kept on the phone until uploaded. */
function FilePick({ label, accept, onPick, tr, testid }: {
  label: string; accept: string; tr: Tr; testid: string; onPick: (f: PhotoInput | null, name: string) => void;
}) {
  const [name, setName] = useState('');
  const [err, setErr] = useState('');
  async function pick(e: any) {
    const f: File | undefined = e.currentTarget.files?.[0];
    setErr('');
    if (!f) return onPick(null, '');
    if (f.size > MAX_ATTACHMENT) {
      setErr(tr('fileTooLarge'));
      return onPick(null, '');
    }
    setName(f.name);
    onPick({ sha256: await sha256Hex(f), blob: f }, f.name);
  }
  return (
    <label>{label}
      <input type="file" accept={accept} onChange={pick} data-testid={testid} />
      {name && <span class="small muted" data-testid={`${testid}-name`}>{name} · {tr('fileQueued')}</span>}
      {err && <span class="error small">{err}</span>}
    </label>
  );
}

function Checklist({ items, tr }: { items: { item: string; met: boolean }[]; tr: Tr }) {
  return (
    <ul class="checklist" data-testid="gate-checklist">
      {items.map(({ item, met }) => (
        <li class={met ? 'met' : 'unmet'} data-testid="gate-item" data-item={item} data-met={met ? '1' : '0'}>
          {tr(`gi_${item}` as MessageKey)}
        </li>
      ))}
    </ul>
  );
}

// ---- new opportunity --------------------------------------------------------------------------------

export function NewOpportunity({ customerId }: { customerId: string }) {
  const { tr } = useT();
  const { v } = useView();
  const c = v.get('customer')?.get(customerId);
  const [form, setForm] = useState<Record<string, string>>({});
  const [lines, setLines] = useState<Line[]>([]);
  const [amountText, setAmountText, amount] = useYuan('', 0);
  const [err, setErr] = useState('');
  const set = (k: string) => (e: any) => setForm({ ...form, [k]: e.currentTarget.value });
  const draft = { ...form, products: 'lines' in parseLines(lines) ? (parseLines(lines) as any).lines : [] } as unknown as Entity;
  const gate = gateChecklist(draft, 'qualify', { signed: false });
  async function save(ev: Event) {
    ev.preventDefault();
    setErr('');
    if (!form.name?.trim()) return setErr(tr('fillRequired'));
    const parsed = parseLines(lines);
    if ('error' in parsed) return setErr(parsed.error === 'quantity' ? tr('invalidNumber') : tr('m_format'));
    const args: Record<string, any> = { id: uuidv7(), customer_id: customerId, name: form.name.trim(), products: parsed.lines };
    if (amountText.trim()) {
      if ('error' in amount) return setErr(moneyError(tr, amount));
      args.amount = amount.fen;
    } else {
      args.amount = orderTotal(parsed.lines) ?? 0;
    }
    for (const k of ['need', 'budget', 'timeline', 'authority']) if (form[k]?.trim()) args[k] = form[k].trim();
    if (form.expected_close_date) args.expected_close_date = form.expected_close_date;
    await enqueue('opportunity.create', args);
    requestSync();
    go(`opportunity/${args.id}`);
  }
  return (
    <form class="card" onSubmit={save} data-testid="opportunity-form">
      <h2>{tr('newOpportunity')} · {c?.name}</h2>
      <label>{tr('oppName')} *<input name="opp_name" value={form.name ?? ''} onInput={set('name')} /></label>
      <label>{tr('amountYuan')}<input name="amount" inputMode="decimal" value={amountText} onInput={(e) => setAmountText(e.currentTarget.value)} /></label>
      <label>{tr('expectedClose')}<input name="expected_close_date" type="date" onInput={set('expected_close_date')} /></label>
      <p class="small">{tr('gateFor', { stage: stageName(tr, 'qualify') })}</p>
      <Checklist items={gate} tr={tr} />
      <label>{tr('gi_need')}<textarea name="need" onInput={set('need')} /></label>
      <label>{tr('gi_budget')}<textarea name="budget" onInput={set('budget')} /></label>
      <label>{tr('gi_timeline')}<textarea name="timeline" onInput={set('timeline')} /></label>
      <label>{tr('authority')}<input name="authority" onInput={set('authority')} /></label>
      <h3>{tr('products')}</h3>
      <LinesEditor lines={lines} setLines={setLines} tr={tr} />
      {err && <p class="error" role="alert">{err}</p>}
      <button type="submit" data-testid="save-opportunity">{tr('save')}</button>
    </form>
  );
}

// ---- an opportunity: stage change with the gate checklist -----------------------------------------

function nextStage(s: string): Stage {
  const open = ['qualify', 'solution', 'negotiation', 'contracting', 'won'];
  const i = open.indexOf(s);
  return (i >= 0 && i < open.length - 1 ? open[i + 1] : 'qualify') as Stage;
}

/** The fields a gate's form edits. */
const GATE_FIELDS: Record<Stage, readonly ('bant' | 'lines' | 'draft' | 'deal' | 'loss')[]> = {
  qualify: ['bant'], solution: ['lines'], negotiation: ['lines'], contracting: ['draft'], won: ['deal'], lost: ['loss'],
};

export function OpportunityScreen({ id }: { id: string }) {
  const { l, tr } = useT();
  const { v } = useView();
  const on = useSignal(online);
  const c = useSignal(counts);
  const o = v.get('opportunity')?.get(id);
  const [target, setTarget] = useState<Stage>(nextStage(o?.stage ?? 'qualify'));
  const [form, setForm] = useState<Record<string, string>>({});
  const [lines, setLines] = useState<Line[] | null>(null);
  const [draftFile, setDraftFile] = useState<PhotoInput | null>(null);
  const [lossReason, setLossReason] = useState('');
  const [err, setErr] = useState('');
  const [note, setNote] = useState('');
  const [rejections, setRejections] = useState<Rejection[]>([]);
  useEffect(() => {
    db.rejections.toArray().then((rs) => setRejections(rs.filter((r) => r.name.startsWith('opportunity.') && r.args?.id === id)));
  }, [id, c.rejections, c.outbox]);
  // A refused stage change the rep has since achieved (the synced stage is the one asked for)
  // has been answered: it leaves the inbox, as "discard" would.
  useEffect(() => {
    if (!on || !o || o._pending) return;
    for (const r of rejections) {
      if (r.name === 'opportunity.set_stage' && r.args.stage === o.stage && !r.resolving) {
        resolveRejection(api, r, 'discard').then(() => db.rejections.toArray()
          .then((rs) => setRejections(rs.filter((x) => x.name.startsWith('opportunity.') && x.args?.id === id))), () => undefined);
      }
    }
  }, [on, o?.stage, o?._pending, rejections.length]);
  // Once the stage has moved (or a move was refused), offer the next step from where it stands.
  useEffect(() => {
    if (o?.stage) setTarget(nextStage(o.stage));
  }, [o?.stage]);
  const editedLines = useMemo(() => {
    if (lines === null) return null;
    const p = parseLines(lines);
    return 'lines' in p ? p.lines : null;
  }, [lines]);
  if (!o) return <p class="muted">{tr('noCustomers')} · <a href="#/customers">{tr('back')}</a></p>;
  const customer = v.get('customer')?.get(o.customer_id);
  // The checklist reads the opportunity as it would be with what is typed here.
  const merged: Entity = {
    ...o, ...Object.fromEntries(Object.entries(form).filter(([, x]) => x.trim())),
    ...(editedLines ? { products: editedLines } : {}), ...(draftFile ? { contract_draft: draftFile.sha256 } : {}),
  };
  const signed = signedDealFor(v, o.id);
  const items = gateChecklist(merged, target, { signed, lossReason });
  const met = items.every((x) => x.met);
  const set = (k: string) => (e: any) => setForm({ ...form, [k]: e.currentTarget.value });
  const curLines = lines ?? toLines(o.products);

  async function move(ev: Event) {
    ev.preventDefault();
    setErr('');
    setNote('');
    const changes: Record<string, any> = {};
    for (const k of ['need', 'budget', 'timeline', 'authority']) {
      if (form[k] !== undefined && form[k].trim() !== (o![k] ?? '')) changes[k] = form[k].trim() || null;
    }
    if (lines !== null) {
      const p = parseLines(lines);
      if ('error' in p) return setErr(p.error === 'quantity' ? tr('invalidNumber') : tr('m_format'));
      changes.products = p.lines;
      // An opportunity without an amount takes its order total once the lines are priced.
      const total = orderTotal(p.lines);
      if (!o!.amount && total) changes.amount = total;
    }
    if (draftFile) changes.contract_draft = draftFile.sha256;
    if (Object.keys(changes).length) {
      await enqueue('opportunity.update', { id: o!.id, base_version: o!.version ?? 0, changes },
        draftFile ? { photos: [draftFile] } : {});
    }
    if (target !== o!.stage || (target === 'lost' && lossReason.trim())) {
      const args: Record<string, any> = { id: o!.id, stage: target };
      if (target === 'lost') args.loss_reason = lossReason.trim() || null;
      await enqueue('opportunity.set_stage', args);
    }
    setForm({});
    setLines(null);
    setDraftFile(null);
    setNote(tr('stageQueued'));
    requestSync();
  }

  const fields = GATE_FIELDS[target];
  return (
    <div class="stack" data-testid="opportunity-screen" data-stage={o.stage}>
      <Card>
        <h2 data-testid="opportunity-name">{o.name}</h2>
        <a class="small" href={`#/customer/${o.customer_id}`}>{customer?.name ?? ''}</a>
        <div class="small">{tr('amount')}: <b class="money">{formatMoney(l, o.amount)}</b> · {tr('winRate')} {WIN_RATES[o.stage as Stage] ?? 0}% ·
          {' '}{tr('weightedAmount')} <b class="money" data-testid="opportunity-weighted">{formatMoney(l, weighted(Number(o.amount) || 0, o.stage))}</b></div>
        <div class="stages" data-testid="stage-now" data-stage={o.stage}>
          {STAGES.map((s) => (
            <button type="button" class={`chip${s === target ? ' on' : ''}${s === o.stage ? ' current' : ''}`}
              onClick={() => { setTarget(s); setErr(''); setNote(''); }} data-testid={`stage-${s}`}>
              {stageName(tr, s)}
            </button>
          ))}
        </div>
        {o._pending && <p class="hint small">{tr('stageQueued')}</p>}
      </Card>
      {rejections.map((r) => (
        <p class="error" data-testid="opportunity-rejection" data-code={r.error.code}>
          {tr('serverSays', { reason: errorText(l, r.error) })}
        </p>
      ))}
      <form class="card" onSubmit={move} data-testid="stage-form" data-target={target}>
        <h3>{tr('gateFor', { stage: stageName(tr, target) })}</h3>
        <Checklist items={items} tr={tr} />
        {met && <p class="ok small">{tr('gateOpen')}</p>}
        {fields.includes('bant') && GATE_ITEMS.qualify.map((k) => (
          <label>{tr(`gi_${k}` as MessageKey)}<textarea name={k} value={form[k] ?? o[k] ?? ''} onInput={set(k)} /></label>
        ))}
        {fields.includes('lines') && <LinesEditor lines={curLines} setLines={setLines} tr={tr} />}
        {fields.includes('draft') && (
          <>
            {o.contract_draft && <p class="small">{tr('contractDraft')}: {o.contract_draft_uploaded ? tr('fileUploaded') : tr('fileQueued')}</p>}
            <FilePick label={tr('contractDraft')} accept="application/pdf,image/*" tr={tr} testid="contract-draft-input"
              onPick={(f) => setDraftFile(f)} />
          </>
        )}
        {fields.includes('deal') && !signed && (
          <button type="button" class="secondary" onClick={() => go(`deal/${o.customer_id}/${o.id}`)} data-testid="record-deal">
            ＋ {tr('newDeal')}</button>
        )}
        {fields.includes('loss') && (
          <label>{tr('lossReason')}<textarea name="loss_reason" value={lossReason} onInput={(e) => setLossReason(e.currentTarget.value)} /></label>
        )}
        {err && <p class="error" role="alert">{err}</p>}
        {note && <p class="hint small" data-testid="stage-note">{note}</p>}
        <button type="submit" data-testid="move-stage">{target === o.stage ? tr('saveFields') : tr('moveToStage', { stage: stageName(tr, target) })}</button>
      </form>
    </div>
  );
}

// ---- deal entry ---------------------------------------------------------------------------------------

const normContract = (s: string) => s.normalize('NFKC').replace(/\s+/g, '').toLowerCase();

export function DealForm({ customerId }: { customerId: string }) {
  const { l, tr } = useT();
  const { v } = useView();
  const tz = orgTimeZone(v);
  const c = v.get('customer')?.get(customerId);
  const opps = values(v, 'opportunity').filter((o) => o.customer_id === customerId && !o.voided_at && o.stage !== 'lost');
  const [oppId, setOppId] = useState(routeArgs()[1] ?? '');
  const [contractNo, setContractNo] = useState('');
  const [amountText, setAmountText, amount] = useYuan('');
  const [signedDate, setSignedDate] = useState(todayIn(tz));
  const [signNow, setSignNow] = useState(true);
  const [file, setFile] = useState<PhotoInput | null>(null);
  const [err, setErr] = useState('');
  async function save(ev: Event) {
    ev.preventDefault();
    setErr('');
    const no = contractNo.trim().split(/\s+/).join(' ');
    if (!no) return setErr(tr('fillRequired'));
    if ('error' in amount) return setErr(moneyError(tr, amount));
    if (values(v, 'deal').some((d) => normContract(d.contract_no ?? '') === normContract(no))) {
      return setErr(errorText(l, { code: 'contract_no_taken', details: { contract_no: no } }));
    }
    if (signNow && signedDate > todayIn(tz)) return setErr(tr('fillRequired'));
    const id = uuidv7();
    const photos = file ? [file] : [];
    await enqueue('deal.create', { id, customer_id: customerId, opportunity_id: oppId || null, contract_no: no,
      amount: amount.fen, signed_date: signNow ? signedDate : null, attachment: file?.sha256 ?? null }, { photos });
    if (signNow) await enqueue('deal.sign', { id, signed_date: signedDate });
    requestSync();
    go(`customer/${customerId}`);
  }
  return (
    <form class="card" onSubmit={save} data-testid="deal-form">
      <h2>{tr('newDeal')} · {c?.name}</h2>
      <label>{tr('opportunity')}<select name="opportunity_id" value={oppId} onChange={(e) => setOppId(e.currentTarget.value)}>
        <option value="">{tr('none')}</option>
        {opps.map((o) => <option value={o.id}>{o.name} · {stageName(tr, o.stage)}</option>)}
      </select></label>
      <label>{tr('contractNo')} *<input name="contract_no" value={contractNo} onInput={(e) => setContractNo(e.currentTarget.value)} /></label>
      <label>{tr('amountYuan')} *<input name="deal_amount" inputMode="decimal" value={amountText}
        onInput={(e) => setAmountText(e.currentTarget.value)} /></label>
      {amountText && 'error' in amount && <span class="error small" data-testid="amount-error">{moneyError(tr, amount)}</span>}
      <label class="inline"><input type="checkbox" name="sign_now" checked={signNow} onChange={(e) => setSignNow(e.currentTarget.checked)} />{tr('signNow')}</label>
      {signNow && <label>{tr('signedDate')}<input name="signed_date" type="date" max={todayIn(tz)} value={signedDate}
        onInput={(e) => setSignedDate(e.currentTarget.value)} /></label>}
      <FilePick label={tr('attachFile')} accept="application/pdf,image/*" tr={tr} testid="deal-attachment-input" onPick={(f) => setFile(f)} />
      {err && <p class="error" role="alert">{err}</p>}
      <button type="submit" data-testid="save-deal">{tr('save')}</button>
    </form>
  );
}

// ---- payment entry ------------------------------------------------------------------------------------

export function PaymentForm({ dealId }: { dealId: string }) {
  const { l, tr } = useT();
  const { v } = useView();
  const tz = orgTimeZone(v);
  const d = v.get('deal')?.get(dealId);
  const [amountText, setAmountText, amount] = useYuan('');
  const [received, setReceived] = useState(todayIn(tz));
  const [proof, setProof] = useState<PhotoInput | null>(null);
  const [err, setErr] = useState('');
  if (!d) return <p class="muted">{tr('noCustomers')} · <a href="#/customers">{tr('back')}</a></p>;
  const paid = paidOn(v, d.id);
  const over = 'fen' in amount ? overpaymentCheck(v, d, amount.fen) : null;
  async function save(ev: Event) {
    ev.preventDefault();
    setErr('');
    if ('error' in amount) return setErr(moneyError(tr, amount));
    if (over) return setErr(tr('overpayPrecheck', { remaining: formatMoney(l, over.remaining) }));
    if (!received || received > todayIn(tz)) return setErr(tr('fillRequired'));
    await enqueue('payment.create', { id: uuidv7(), deal_id: d!.id, amount: amount.fen, received_date: received,
      proof: proof?.sha256 ?? null }, { photos: proof ? [proof] : [] });
    requestSync();
    go(`customer/${d!.customer_id}`);
  }
  return (
    <form class="card" onSubmit={save} data-testid="payment-form">
      <h2>{tr('newPayment')} · {d.contract_no}</h2>
      <div class="grid2 small">
        <span>{tr('contractAmount')}: <b class="money">{formatMoney(l, d.amount)}</b></span>
        <span>{tr('paid')}: <b class="money">{formatMoney(l, paid)}</b></span>
        <span>{tr('outstanding')}: <b class="money" data-testid="payment-remaining">{formatMoney(l, (Number(d.amount) || 0) - paid)}</b></span>
      </div>
      <label>{tr('paymentAmount')} *<input name="payment_amount" inputMode="decimal" value={amountText}
        onInput={(e) => setAmountText(e.currentTarget.value)} /></label>
      {over && <p class="error" data-testid="overpayment-precheck">{tr('overpayPrecheck', { remaining: formatMoney(l, over.remaining) })}</p>}
      <label>{tr('receivedDate')}<input name="received_date" type="date" max={todayIn(tz)} value={received}
        onInput={(e) => setReceived(e.currentTarget.value)} /></label>
      <FilePick label={tr('proof')} accept="image/*" tr={tr} testid="proof-input" onPick={(f) => setProof(f)} />
      {err && <p class="error" role="alert">{err}</p>}
      <button type="submit" data-testid="save-payment" disabled={!!over}>{tr('save')}</button>
    </form>
  );
}
