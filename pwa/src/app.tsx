import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import { ApiError, AuthRequired, NetworkError } from './api';
import { db } from './db';
import { errorText, formatDate, formatMoney, formatNumber, t, type Lang, type MessageKey } from './i18n';
import { isoLocal, uuidv7 } from './ids';
import { hasPending, login, logout, pendingWork } from './session';
import {
  api, counts, engine, lang, online, requestSync, setLang, syncStatus, user, useSignal, view,
} from './state';
import { enqueue } from './sync/outbox';
import { resolveRejection } from './sync/engine';
import type { Entity, View } from './sync/replay';
import { filterCustomers, relationOf, type CustomerFilter } from './filter';
import { DealForm, NewOpportunity, OpportunityScreen, PaymentForm, PipelineCards } from './screens/Pipeline';
import { DailyReport } from './screens/DailyReport';
import { MyTargets } from './screens/Targets';
import { UpdateBanner } from './screens/UpdateBanner';
import { DeskLink, DeskScreen } from './manager/entry';

// ---- routing ----------------------------------------------------------------------------------
function useRoute(): string[] {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return (hash.replace(/^#\/?/, '') || 'customers').split('/');
}
const go = (path: string) => (location.hash = `#/${path}`);

function useT() {
  const l = useSignal(lang);
  return { l, tr: (k: MessageKey, p?: Record<string, string | number>) => t(l, k, p) };
}

// ---- shell -----------------------------------------------------------------------------------
export function App() {
  const u = useSignal(user);
  const st = useSignal(syncStatus);
  const { l } = useT();
  useEffect(() => {
    document.documentElement.lang = l;
  }, [l]);
  if (!u) return <Login />;
  return (
    <div class="app">
      <SyncBar />
      <UpdateBanner />
      {st.authRequired && <Login reauth />}
      <main class="content">
        <Screen />
      </main>
      <Nav />
    </div>
  );
}

function Screen() {
  const [name, arg] = useRoute();
  switch (name) {
    case 'today': return <Today />;
    case 'customer': return <CustomerDetail id={arg} />;
    case 'new': return <NewCustomer />;
    case 'visit': return <VisitForm customerId={arg} />;
    case 'followup': return <FollowUpForm customerId={arg} />;
    case 'pool': return <PoolBrowser />;
    case 'sync': return <SyncScreen />;
    case 'settings': return <Settings />;
    case 'opportunity': return <OpportunityScreen id={arg} />;
    case 'new-opportunity': return <NewOpportunity customerId={arg} />;
    case 'deal': return <DealForm customerId={arg} />;
    case 'payment': return <PaymentForm dealId={arg} />;
    case 'daily': return <DailyReport />;
    case 'targets': return <MyTargets />;
    case 'desk': return <DeskScreen />; // managers/ops/admin; the desk chunk loads on first use
    default: return <Customers />;
  }
}

function Nav() {
  const { tr } = useT();
  const c = useSignal(counts);
  const [name] = useRoute();
  const item = (to: string, key: MessageKey, badge?: number) => (
    <a href={`#/${to}`} class={name === to ? 'on' : ''} data-testid={`nav-${to}`}>
      {tr(key)}{badge ? <span class="badge">{badge}</span> : null}
    </a>
  );
  return (
    <nav class="tabs">
      {item('today', 'today')}
      {item('customers', 'customers')}
      {item('pool', 'pool')}
      {item('daily', 'navDaily')}
      {item('targets', 'navTargets')}
      {item('sync', 'sync', c.rejections)}
      <DeskLink on={name === 'desk'} />
      {item('settings', 'settings')}
    </nav>
  );
}

function SyncBar() {
  const { l, tr } = useT();
  const st = useSignal(syncStatus);
  const c = useSignal(counts);
  const on = useSignal(online);
  const progress = st.running && st.total > 0 ? Math.round((st.done / st.total) * 100) : null;
  const phaseText = st.phase === 'photos' ? tr('uploadingPhotos', { done: st.done, total: st.total })
    : st.phase === 'push' ? tr('pushing', { done: st.done, total: st.total })
    : st.phase === 'pull' ? tr('pulling', { done: st.done, total: st.total }) : tr('syncing');
  return (
    <header class="syncbar" data-testid="syncbar">
      <span class={`dot ${on ? 'on' : 'off'}`} />
      {!on && <span data-testid="offline">{tr('offline')}</span>}
      <span data-testid="pending-count" data-count={c.outbox}>{tr('pending', { n: c.outbox })}</span>
      <span class="muted" data-testid="last-sync">
        {st.running ? phaseText : st.lastSync ? tr('lastSync', { when: formatDate(l, st.lastSync, true) }) : tr('neverSynced')}
      </span>
      <button class="small" onClick={() => requestSync()} disabled={!on} data-testid="sync-now">↻</button>
      {progress !== null && <div class="progress"><div style={{ width: `${progress}%` }} /></div>}
    </header>
  );
}

// ---- login -----------------------------------------------------------------------------------
function Login({ reauth = false }: { reauth?: boolean }) {
  const { l, tr } = useT();
  const u = useSignal(user);
  const [username, setUsername] = useState(reauth ? u?.username ?? '' : '');
  const [password, setPassword] = useState('');
  const [err, setErr] = useState('');
  const [busy, setBusy] = useState(false);
  async function submit(ev: Event) {
    ev.preventDefault();
    if (!username.trim() || !password) return setErr(tr('required'));
    setBusy(true);
    setErr('');
    try {
      const s = await login(api, username.trim(), password);
      user.set(s.user);
      engine.resumeAfterLogin();
      requestSync();
      if (!reauth) go('customers');
    } catch (e) {
      if (e instanceof ApiError && e.code === 'other_user_pending') {
        setErr(l === 'en' ? `This phone holds unsynced work of ${e.details.username ?? 'another user'}. Sign in as that user to sync it first.`
          : `本机有 ${e.details.username ?? '其他用户'} 未同步的工作，请先以该用户登录完成同步。`);
      } else if (e instanceof ApiError) setErr(e.message || tr('httpError', { status: e.status }));
      else setErr(tr('networkError'));
    } finally {
      setBusy(false);
    }
  }
  return (
    <div class={reauth ? 'modal' : 'shell'}>
      {!reauth && <div class="brand"><h1>fieldcrm</h1><p>{tr('tagline')}</p></div>}
      <form class="card" onSubmit={submit} data-testid="login-form">
        <h2>{reauth ? tr('reauthTitle') : tr('loginTitle')}</h2>
        {reauth && <p class="muted">{tr('reauthBody')}</p>}
        <label>{tr('username')}<input name="username" autocomplete="username" value={username} readOnly={reauth}
          onInput={(e) => setUsername(e.currentTarget.value)} /></label>
        <label>{tr('password')}<input name="password" type="password" autocomplete="current-password" value={password}
          onInput={(e) => setPassword(e.currentTarget.value)} /></label>
        {err && <p class="error" role="alert">{err}</p>}
        <button type="submit" disabled={busy}>{busy ? tr('submitting') : tr('submit')}</button>
        {!reauth && <button type="button" class="link" onClick={() => setLang(l === 'en' ? 'zh-CN' : 'en')}>{tr('switchLang')}</button>}
      </form>
    </div>
  );
}

// ---- helpers ---------------------------------------------------------------------------------
function values(v: View, entity: string): Entity[] {
  return [...(v.get(entity)?.values() ?? [])];
}
function industries(v: View): any[] {
  return (v.get('settings')?.get('org') as any)?.industries ?? [];
}
function industryName(v: View, l: Lang, code: string): string {
  const i = industries(v).find((x) => x.code === code);
  return i ? (l === 'en' ? i.name_en : i.name_zh) : code;
}
function Card({ title, children, testid }: { title?: string; children: ComponentChildren; testid?: string }) {
  return <section class="card" data-testid={testid}>{title && <h3>{title}</h3>}{children}</section>;
}
function statusText(tr: (k: MessageKey) => string, s: string) {
  return tr(`st_${s}` as MessageKey);
}
function verificationText(tr: (k: MessageKey) => string, visit: Entity): string {
  const s = visit.verification?.status ?? visit.verification_status;
  if (!s) return tr('v_waiting');
  return tr(`v_${s}` as MessageKey);
}

// ---- today -----------------------------------------------------------------------------------
function Today() {
  const { l, tr } = useT();
  const v = useSignal(view);
  const end = new Date();
  end.setHours(23, 59, 59, 999);
  const due = values(v, 'follow_up').filter((f) => f.next_contact_at && new Date(f.next_contact_at) <= end)
    .sort((a, b) => String(a.next_contact_at).localeCompare(String(b.next_contact_at)));
  const warn = values(v, 'customer').filter((c) => typeof c.days_to_reclaim === 'number' && c.days_to_reclaim <= 7
    && c.owner?.id === user.get()?.id);
  const notes = values(v, 'notification').filter((n) => !n.read_at).slice(0, 20);
  const customer = (id: string) => v.get('customer')?.get(id);
  return (
    <div class="stack" data-testid="today">
      <Card title={tr('dueFollowUps')}>
        {due.length === 0 && <p class="muted">{tr('nothingToday')}</p>}
        {due.map((f) => (
          <a class="row" href={`#/customer/${f.customer_id}`}>
            <b>{customer(f.customer_id)?.name ?? ''}</b><span class="muted">{formatDate(l, f.next_contact_at, true)}</span>
            <span>{f.content}</span>
          </a>
        ))}
      </Card>
      <Card title={tr('reclaimWarnings')}>
        {warn.length === 0 && <p class="muted">—</p>}
        {warn.map((c) => (
          <a class="row" href={`#/customer/${c.id}`}><b>{c.name}</b><span class="warn">{tr('daysLeft', { n: c.days_to_reclaim })}</span></a>
        ))}
      </Card>
      <Card title={tr('notifications')}>
        {notes.length === 0 && <p class="muted">—</p>}
        {notes.map((n) => <div class="row"><span>{n.title ?? n.kind}</span><span class="muted">{formatDate(l, n.created_at, true)}</span></div>)}
      </Card>
    </div>
  );
}

// ---- customers list --------------------------------------------------------------------------
function Customers() {
  const { l, tr } = useT();
  const v = useSignal(view);
  const u = useSignal(user);
  const [f, setF] = useState<CustomerFilter>({ q: '', relation: 'all', status: '', grade: '', reclaimSoon: false });
  const all = useMemo(() => values(v, 'customer').filter((c) => !c.voided_at && !c.pool), [v]);
  const list = useMemo(() => filterCustomers(all, f, u?.id), [all, f, u]);
  const [shown, setShown] = useState(60); // a phone shows ~10 rows; render more on demand
  return (
    <div class="stack">
      <div class="toolbar">
        <input type="search" placeholder={tr('search')} value={f.q} data-testid="customer-search"
          onInput={(e) => setF({ ...f, q: e.currentTarget.value })} />
        <button onClick={() => go('new')} data-testid="new-customer">＋</button>
      </div>
      <div class="chips">
        {(['all', 'owned', 'co_followed', 'shared'] as const).map((r) => (
          <button class={f.relation === r ? 'chip on' : 'chip'} onClick={() => setF({ ...f, relation: r })}>
            {tr(r === 'all' ? 'all' : r === 'owned' ? 'owned' : r === 'co_followed' ? 'coFollowed' : 'shared')}
          </button>
        ))}
        <select value={f.status} onChange={(e) => setF({ ...f, status: e.currentTarget.value })} aria-label={tr('status')}>
          <option value="">{tr('status')}</option>
          {['potential', 'intent', 'signed', 'lost'].map((s) => <option value={s}>{statusText(tr, s)}</option>)}
        </select>
        <label class="inline"><input type="checkbox" checked={f.reclaimSoon}
          onChange={(e) => setF({ ...f, reclaimSoon: e.currentTarget.checked })} />{tr('reclaimSoon')}</label>
      </div>
      <ul class="list" data-testid="customer-list">
        {list.length === 0 && <li class="muted">{tr('noCustomers')}</li>}
        {list.slice(0, shown).map((c) => (
          <li key={c.id} data-testid="customer-item" data-id={c.id}>
            <a href={`#/customer/${c.id}`}>
              <div class="title">{c.name}{c._pending && <span class="tag">{tr('pendingBadge')}</span>}</div>
              <div class="muted small">
                {c.code ?? tr('codePending')} · {statusText(tr, c.status ?? 'potential')} · {industryName(v, l, c.industry)}
                {relationOf(c, u?.id) !== 'owned' && ` · ${c.owner?.display_name ?? ''}`}
              </div>
              {typeof c.days_to_reclaim === 'number' && c.days_to_reclaim <= 7 &&
                <span class="warn small">{tr('daysLeft', { n: c.days_to_reclaim })}</span>}
            </a>
          </li>
        ))}
      </ul>
      {list.length > shown && <button class="secondary" onClick={() => setShown(shown + 200)}>
        {tr('more')} ({formatNumber(l, list.length - shown)})</button>}
    </div>
  );
}

// ---- customer detail -------------------------------------------------------------------------
function CustomerDetail({ id }: { id: string }) {
  const { l, tr } = useT();
  const v = useSignal(view);
  const on = useSignal(online);
  const c = v.get('customer')?.get(id);
  const [history, setHistory] = useState<any[] | null>(null);
  if (!c) return <p class="muted" data-testid="customer-gone">{tr('noCustomers')} · <a href="#/customers">{tr('back')}</a></p>;
  const contacts = values(v, 'contact').filter((x) => x.customer_id === id);
  const visits = values(v, 'visit').filter((x) => x.customer_id === id);
  const fus = values(v, 'follow_up').filter((x) => x.customer_id === id);
  const accounts = values(v, 'account').filter((x) => x.customer_id === id);
  const timeline = [
    ...visits.map((x) => ({ kind: 'visit', at: x.visited_at, x })),
    ...fus.map((x) => ({ kind: 'follow_up', at: x.created_at ?? x.next_contact_at, x })),
  ].sort((a, b) => String(b.at).localeCompare(String(a.at)));
  const missing: string[] = c.missing_profile_fields ?? [];
  async function loadHistory() {
    try {
      const h = await api.json<any>('GET', `/api/v1/customers/${id}/history`);
      setHistory(h.items ?? h.history ?? h ?? []);
    } catch {
      setHistory([]);
    }
  }
  return (
    <div class="stack" data-testid="customer-detail">
      <Card>
        <h2 data-testid="customer-name">{c.name}</h2>
        <div class="muted small">{c.code ?? tr('codePending')} · {statusText(tr, c.status ?? 'potential')} · {industryName(v, l, c.industry)}</div>
        <div class="small">{c.region} {c.address}</div>
        <div class="small">{tr('owner')}: {c.owner?.display_name ?? '—'} · {tr('visits')}: {c.visit_count ?? 0}
          {c.last_visit_at && ` · ${tr('lastVisit')}: ${formatDate(l, c.last_visit_at)}`}</div>
        {c.deal_total ? <div class="small">{tr('deal')}: {formatMoney(l, c.deal_total)} · {tr('payment')}: {formatMoney(l, c.payment_total)}</div> : null}
        {missing.length > 0 && <p class="hint" data-testid="missing-fields">{tr('missingFields', { fields: missing.join(', ') })}</p>}
        {typeof c.days_to_reclaim === 'number' && c.days_to_reclaim <= 7 && <p class="warn">{tr('daysLeft', { n: c.days_to_reclaim })}</p>}
        <div class="actions">
          <button onClick={() => go(`visit/${id}`)} data-testid="check-in">{tr('checkIn')}</button>
          <button onClick={() => go(`followup/${id}`)} data-testid="write-follow-up">{tr('followUp')}</button>
        </div>
      </Card>
      <Card title={tr('contacts')} testid="contacts">
        {contacts.map((k) => <div class="row"><b>{k.name}</b><span>{k.title}</span><span class="muted">{k.mobile}</span></div>)}
      </Card>
      <Card title={tr('timeline')} testid="timeline">
        {timeline.map(({ kind, at, x }) => kind === 'visit' ? (
          <div class="row" data-testid="timeline-visit" data-status={x.verification?.status ?? 'waiting'}>
            <b>{tr('visit')}</b><span class="muted">{formatDate(l, at, true)}</span>
            <span>{x.purpose}</span>
            <span class={`vstatus ${x.verification?.status ?? ''}`} data-testid="visit-verification">{verificationText(tr, x)}</span>
            {x.verification?.checks?.filter((ch: any) => ch.passed === false).map((ch: any) => <span class="small warn">{ch.code}</span>)}
          </div>
        ) : (
          <div class="row" data-testid="timeline-follow-up">
            <b>{tr(`fk_${x.kind}` as MessageKey)}</b><span class="muted">{formatDate(l, at, true)}</span>
            <span>{x.content}</span>{x.valid === false && <span class="warn small">{tr('invalidFollowUp')}</span>}
          </div>
        ))}
      </Card>
      <PipelineCards customerId={id} />
      <Card title={tr('accounts')}>{accounts.map((a) => <div class="row">{a.pin ?? a.account_id ?? a.id}</div>)}</Card>
      <Card title={tr('history')}>
        {history === null ? <button class="link" disabled={!on} onClick={loadHistory}>{on ? tr('history') : tr('needsOnline')}</button>
          : history.map((h: any) => <div class="row small"><span>{formatDate(l, h.at ?? h.created_at, true)}</span><span>{h.field ?? h.action}</span></div>)}
      </Card>
    </div>
  );
}

// ---- new customer ----------------------------------------------------------------------------
function getPosition(): Promise<GeolocationPosition> {
  return new Promise((resolve, reject) =>
    navigator.geolocation.getCurrentPosition(resolve, reject, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }));
}

function NewCustomer() {
  const { l, tr } = useT();
  const v = useSignal(view);
  const on = useSignal(online);
  const [form, setForm] = useState<Record<string, string>>({ type: 'direct', industry: '' });
  const [loc, setLoc] = useState<{ lat: number; lng: number } | null>(null);
  const [matches, setMatches] = useState<any[]>([]);
  const [err, setErr] = useState('');
  const set = (k: string) => (e: any) => setForm({ ...form, [k]: e.currentTarget.value });
  useEffect(() => {
    const q = (form.name ?? '').trim();
    if (!on || q.length < 2) return setMatches([]);
    const h = setTimeout(async () => {
      try {
        const r = await api.json<any>('GET', `/api/v1/customers?q=${encodeURIComponent(q)}&limit=5`);
        setMatches(r.matches ?? []);
      } catch {
        setMatches([]);
      }
    }, 250);
    return () => clearTimeout(h);
  }, [form.name, on]);
  async function usePosition() {
    try {
      const p = await getPosition();
      setLoc({ lat: +p.coords.latitude.toFixed(6), lng: +p.coords.longitude.toFixed(6) });
    } catch {
      setErr(tr('noPosition'));
    }
  }
  async function save(ev: Event) {
    ev.preventDefault();
    const name = (form.name ?? '').trim();
    if (name.length < 2) return setErr(tr('nameTooShort'));
    if (!form.industry || !form.region?.trim() || !form.address?.trim()) return setErr(tr('fillRequired'));
    const id = uuidv7();
    const contacts = form.contact_name?.trim()
      ? [{ id: uuidv7(), name: form.contact_name.trim(), title: form.contact_title || null, mobile: form.contact_mobile || null }]
      : [];
    const args: Record<string, any> = { id, name, type: form.type, industry: form.industry, region: form.region.trim(),
      address: form.address.trim(), contacts };
    if (loc) args.location = loc;
    if (form.tax_id?.trim()) args.tax_id = form.tax_id.trim();
    await enqueue('customer.create', args);
    requestSync();
    go(`customer/${id}`);
  }
  return (
    <form class="card" onSubmit={save} data-testid="new-customer-form">
      <h2>{tr('newCustomer')}</h2>
      <label>{tr('name')} *<input name="name" value={form.name ?? ''} onInput={set('name')} autocomplete="off" /></label>
      {!on && <p class="hint" data-testid="offline-dup-note">{tr('offlineDupNote')}</p>}
      {on && matches.length > 0 && (
        <div class="dup" data-testid="dup-warning">
          <b>{tr('duplicateWarning')}</b>
          {matches.map((m) => <div>{m.name} · {m.owner_display_name ? `${m.owner_display_name} ${tr('alreadyProtected')}` : tr('inPool', { pool: m.pool })}</div>)}
        </div>
      )}
      <label>{tr('type')} *<select name="type" value={form.type} onChange={set('type')}>
        <option value="direct">{tr('t_direct')}</option><option value="distributor">{tr('t_distributor')}</option></select></label>
      <label>{tr('industry')} *<select name="industry" value={form.industry} onChange={set('industry')}>
        <option value="">—</option>
        {industries(v).map((i) => <option value={i.code}>{l === 'en' ? i.name_en : i.name_zh}</option>)}
      </select></label>
      <label>{tr('region')} *<input name="region" value={form.region ?? ''} onInput={set('region')} /></label>
      <label>{tr('address')} *<input name="address" value={form.address ?? ''} onInput={set('address')} /></label>
      <div class="row">
        <button type="button" class="secondary" onClick={usePosition} data-testid="use-position">{tr('useMyPosition')}</button>
        {loc && <span class="small" data-testid="customer-location">{loc.lat}, {loc.lng}</span>}
      </div>
      <label>{tr('taxId')}<input name="tax_id" value={form.tax_id ?? ''} onInput={set('tax_id')} /></label>
      <h3>{tr('contact')}</h3>
      <label>{tr('contactName')}<input name="contact_name" value={form.contact_name ?? ''} onInput={set('contact_name')} /></label>
      <label>{tr('contactTitle')}<input name="contact_title" value={form.contact_title ?? ''} onInput={set('contact_title')} /></label>
      <label>{tr('mobile')}<input name="contact_mobile" type="tel" value={form.contact_mobile ?? ''} onInput={set('contact_mobile')} /></label>
      {err && <p class="error" role="alert">{err}</p>}
      <button type="submit" data-testid="save-customer">{tr('save')}</button>
    </form>
  );
}

// ---- visit check-in --------------------------------------------------------------------------
async function sha256Hex(blob: Blob): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', await blob.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

function VisitForm({ customerId }: { customerId: string }) {
  const { tr } = useT();
  const v = useSignal(view);
  const c = v.get('customer')?.get(customerId);
  const contacts = values(v, 'contact').filter((x) => x.customer_id === customerId);
  const [photos, setPhotos] = useState<{ sha256: string; blob: Blob; url: string }[]>([]);
  const [pos, setPos] = useState<any>(null);
  const [posState, setPosState] = useState<'locating' | 'ok' | 'none'>('locating');
  const [form, setForm] = useState<Record<string, string>>({ contact_id: contacts[0]?.id ?? '' });
  const [err, setErr] = useState('');
  const set = (k: string) => (e: any) => setForm({ ...form, [k]: e.currentTarget.value });
  useEffect(() => {
    getPosition().then((p) => {
      setPos({ lat: p.coords.latitude, lng: p.coords.longitude, accuracy_m: Math.round(p.coords.accuracy),
        fixed_at: isoLocal(new Date(p.timestamp)) });
      setPosState('ok');
    }, () => setPosState('none'));
  }, []);
  async function onFiles(e: any) {
    const files: File[] = [...(e.currentTarget.files ?? [])];
    const added = [];
    for (const f of files) added.push({ sha256: await sha256Hex(f), blob: f as Blob, url: URL.createObjectURL(f) });
    setPhotos([...photos, ...added]);
  }
  async function save(ev: Event) {
    ev.preventDefault();
    if (!form.purpose?.trim() || photos.length === 0) return setErr(tr('fillRequired'));
    const args: Record<string, any> = {
      id: uuidv7(), customer_id: customerId, contact_id: form.contact_id || (contacts[0]?.id ?? null),
      purpose: form.purpose.trim(), result: form.result?.trim() || null, next_step: form.next_step?.trim() || null,
      visited_at: isoLocal(), photo_hashes: photos.map((p) => p.sha256), position: pos,
    };
    await enqueue('visit.create', args, { photos: photos.map(({ sha256, blob }) => ({ sha256, blob })) });
    requestSync();
    go(`customer/${customerId}`);
  }
  return (
    <form class="card" onSubmit={save} data-testid="visit-form">
      <h2>{tr('checkIn')} · {c?.name}</h2>
      <label class="photo-btn">{tr('takePhoto')}
        <input type="file" accept="image/*" capture="environment" multiple onChange={onFiles} data-testid="photo-input" />
      </label>
      <div class="thumbs" data-testid="photo-count" data-count={photos.length}>
        {photos.map((p) => <img src={p.url} alt="" />)}<span class="small">{tr('photos', { n: photos.length })}</span>
      </div>
      <div class="small" data-testid="position">{tr('position')}: {posState === 'locating' ? tr('locating')
        : pos ? `${pos.lat.toFixed(5)}, ${pos.lng.toFixed(5)} · ${tr('accuracy', { m: pos.accuracy_m })}` : tr('noPosition')}</div>
      <label>{tr('contact')}<select name="contact_id" value={form.contact_id} onChange={set('contact_id')}>
        {contacts.map((k) => <option value={k.id}>{k.name}</option>)}</select></label>
      <label>{tr('purpose')} *<textarea name="purpose" onInput={set('purpose')} /></label>
      <label>{tr('result')}<textarea name="result" onInput={set('result')} /></label>
      <label>{tr('nextStep')}<textarea name="next_step" onInput={set('next_step')} /></label>
      {err && <p class="error" role="alert">{err}</p>}
      <button type="submit" data-testid="save-visit">{tr('save')}</button>
    </form>
  );
}

// ---- follow-up -------------------------------------------------------------------------------
function FollowUpForm({ customerId }: { customerId: string }) {
  const { tr } = useT();
  const v = useSignal(view);
  const contacts = values(v, 'contact').filter((x) => x.customer_id === customerId);
  const [form, setForm] = useState<Record<string, string>>({ kind: 'phone', contact_id: contacts[0]?.id ?? '' });
  const [err, setErr] = useState('');
  const set = (k: string) => (e: any) => setForm({ ...form, [k]: e.currentTarget.value });
  async function save(ev: Event) {
    ev.preventDefault();
    if (!form.content?.trim()) return setErr(tr('fillRequired'));
    await enqueue('follow_up.create', {
      id: uuidv7(), customer_id: customerId, kind: form.kind, contact_id: form.contact_id || (contacts[0]?.id ?? null),
      content: form.content.trim(), next_contact_at: form.next ? isoLocal(new Date(form.next)) : null,
    });
    requestSync();
    go(`customer/${customerId}`);
  }
  return (
    <form class="card" onSubmit={save} data-testid="follow-up-form">
      <h2>{tr('followUp')}</h2>
      <label>{tr('kind')}<select name="kind" value={form.kind} onChange={set('kind')}>
        {['visit', 'phone', 'email', 'wechat', 'other'].map((k) => <option value={k}>{tr(`fk_${k}` as MessageKey)}</option>)}</select></label>
      <label>{tr('contact')}<select name="contact_id" value={form.contact_id} onChange={set('contact_id')}>
        {contacts.map((k) => <option value={k.id}>{k.name}</option>)}</select></label>
      <label>{tr('content')} *<textarea name="content" onInput={set('content')} /></label>
      <label>{tr('nextContact')}<input name="next" type="datetime-local" onInput={set('next')} /></label>
      {err && <p class="error" role="alert">{err}</p>}
      <button type="submit" data-testid="save-follow-up">{tr('save')}</button>
    </form>
  );
}

// ---- pools -----------------------------------------------------------------------------------
function PoolBrowser() {
  const { l, tr } = useT();
  const on = useSignal(online);
  const v = useSignal(view);
  const [pools, setPools] = useState<any[]>([]);
  const [pool, setPool] = useState('');
  const [q, setQ] = useState('');
  const [items, setItems] = useState<any[]>([]);
  const [err, setErr] = useState('');
  const cacheKey = `poolcache:${pool}`;
  useEffect(() => {
    if (!on) return;
    api.json<any[]>('GET', '/api/v1/pools').then((p) => {
      setPools(p);
      if (!pool && p.length) setPool(p.find((x) => x.count > 0)?.pool ?? p[0].pool);
    }, () => setErr(tr('networkError')));
  }, [on]);
  useEffect(() => {
    if (!pool) return;
    (async () => {
      if (!on) {
        setItems((await db.meta.get(cacheKey))?.value ?? []);
        return;
      }
      try {
        const r = await api.json<any>('GET', `/api/v1/pools/${pool}/customers?q=${encodeURIComponent(q)}`);
        setItems(r.items ?? []);
        if (!q) await db.meta.put({ key: cacheKey, value: r.items ?? [] });
      } catch (e) {
        if (!(e instanceof AuthRequired)) setErr(tr('networkError'));
      }
    })();
  }, [pool, q, on]);
  async function claim(c: any) {
    await enqueue('customer.claim', { customer_id: c.id }, { local: { customer: { ...c, pool: null, status: 'potential' } } });
    requestSync();
  }
  const mine = v.get('customer');
  return (
    <div class="stack" data-testid="pool">
      {!on && <p class="hint">{tr('poolOnline')}</p>}
      <div class="chips">{pools.map((p) => (
        <button class={pool === p.pool ? 'chip on' : 'chip'} onClick={() => setPool(p.pool)}>{p.pool} ({formatNumber(l, p.count)})</button>
      ))}</div>
      <input type="search" placeholder={tr('search')} value={q} onInput={(e) => setQ(e.currentTarget.value)} />
      {err && <p class="error">{err}</p>}
      <ul class="list">
        {items.map((c) => (
          <li data-testid="pool-item" data-id={c.id}>
            <div class="title">{c.name}</div>
            <div class="muted small">{c.code} · {industryName(v, l, c.industry)} · {c.region} · {formatDate(l, c.released_at)}</div>
            {mine?.has(c.id) ? <span class="tag">{tr('claimed')}</span>
              : <button class="small" onClick={() => claim(c)} data-testid="claim">{tr('claim')}</button>}
          </li>
        ))}
      </ul>
    </div>
  );
}

// ---- sync & rejections -----------------------------------------------------------------------
function SyncScreen() {
  const { l, tr } = useT();
  const on = useSignal(online);
  const st = useSignal(syncStatus);
  const c = useSignal(counts);
  const [rejections, setRejections] = useState<any[]>([]);
  const [editing, setEditing] = useState<number | null>(null);
  const [draft, setDraft] = useState('');
  const [err, setErr] = useState('');
  useEffect(() => {
    db.rejections.toArray().then(setRejections);
  }, [c.rejections, st.lastSync]);
  async function act(r: any, action: 'discard' | 'retry', mutation?: any) {
    setErr('');
    try {
      const a = await resolveRejection(api, r, action, mutation);
      if (a.status === 'rejected') setErr(errorText(l, a.error));
      setEditing(null);
      setRejections(await db.rejections.toArray());
      requestSync();
    } catch (e) {
      setErr(e instanceof NetworkError ? tr('needsOnline') : e instanceof ApiError ? errorText(l, e) : String(e));
    }
  }
  return (
    <div class="stack" data-testid="sync-screen">
      <Card title={tr('sync')}>
        <div>{tr('pending', { n: c.outbox })}</div>
        <div class="muted">{st.lastSync ? tr('lastSync', { when: formatDate(l, st.lastSync, true) }) : tr('neverSynced')}</div>
        {st.error && st.error !== 'network' && <div class="error small">{st.error}</div>}
        <button disabled={!on || st.running} onClick={() => requestSync()}>{tr('syncNow')}</button>
      </Card>
      <Card title={tr('rejections')} testid="rejections">
        {rejections.length === 0 && <p class="muted">{tr('noRejections')}</p>}
        {err && <p class="error">{err}</p>}
        {rejections.map((r) => (
          <div class="rejection" data-testid="rejection" data-code={r.error?.code}>
            <div><b>{r.name}</b> <span class="muted small">#{r.mutation_id}</span></div>
            <div class="small">{r.args?.name ?? r.args?.customer_id ?? ''}</div>
            <div class="error" data-testid="rejection-reason">{tr('rejectedBecause', { reason: errorText(l, r.error) })}</div>
            {editing === r.mutation_id ? (
              <div class="stack">
                <textarea rows={6} value={draft} onInput={(e) => setDraft(e.currentTarget.value)} />
                <div class="actions">
                  <button onClick={() => { try { act(r, 'retry', { name: r.name, args: JSON.parse(draft) }); } catch { setErr(tr('fillRequired')); } }}>{tr('save')}</button>
                  <button class="secondary" onClick={() => setEditing(null)}>{tr('cancel')}</button>
                </div>
              </div>
            ) : (
              <div class="actions">
                <button class="small" disabled={!on} onClick={() => { setEditing(r.mutation_id); setDraft(JSON.stringify(r.args, null, 2)); }}>{tr('editRetry')}</button>
                {r.name === 'customer.update' && (
                  <button class="small" disabled={!on} onClick={() => act(r, 'retry', { name: 'customer.request_change',
                    args: { id: uuidv7(), customer_id: r.args.id, changes: r.args.changes, reason: 'edit' } })}>{tr('requestInstead')}</button>
                )}
                <button class="small danger" disabled={!on} onClick={() => act(r, 'discard')} data-testid="discard">{tr('discard')}</button>
              </div>
            )}
          </div>
        ))}
      </Card>
    </div>
  );
}

// ---- settings --------------------------------------------------------------------------------
function Settings() {
  const { l, tr } = useT();
  const u = useSignal(user);
  const [warn, setWarn] = useState<number | null>(null);
  const [persisted, setPersisted] = useState<boolean | null>(null);
  const installEvt = useRef<any>((window as any).__installPrompt ?? null);
  useEffect(() => {
    navigator.storage?.persisted?.().then(setPersisted, () => setPersisted(null));
  }, []);
  async function startLogout() {
    const p = await pendingWork();
    setWarn(hasPending(p) ? p.mutations + p.rejections + p.photos : 0);
  }
  async function doLogout() {
    engine.stop();
    await logout(api);
    user.set(null);
    setWarn(null);
    go('customers');
  }
  return (
    <div class="stack" data-testid="settings">
      <Card>
        <div>{tr('signedInAs', { name: u?.display_name ?? '' })}</div>
        <label>{tr('language')}<select value={l} onChange={(e) => setLang(e.currentTarget.value as Lang)} data-testid="language">
          <option value="zh-CN">简体中文</option><option value="en">English</option></select></label>
        <p class="small muted">{persisted ? tr('storagePersisted') : tr('storageNotPersisted')}</p>
        {installEvt.current && <button class="secondary" onClick={() => installEvt.current.prompt()}>{tr('install')}</button>}
        <button class="danger" onClick={startLogout} data-testid="logout">{tr('signOut')}</button>
      </Card>
      {warn !== null && (
        <div class="modal" data-testid="logout-dialog">
          <div class="card">
            <p data-testid="logout-warning" data-pending={warn}>{warn > 0 ? tr('logoutWarn', { n: warn }) : tr('logoutSafe')}</p>
            <div class="actions">
              <button class="secondary" onClick={() => setWarn(null)} data-testid="logout-cancel">{tr('cancel')}</button>
              <button class="danger" onClick={doLogout} data-testid="logout-confirm">{warn > 0 ? tr('logoutConfirm') : tr('signOut')}</button>
            </div>
          </div>
        </div>
      )}
    </div>
  );
}
