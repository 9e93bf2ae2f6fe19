/** Suspect-visit review (SPEC §7): photos, the three positions, every check; confirm or mark false. */
import { useEffect, useState } from 'preact/hooks';
import { formatDate, formatNumber } from '../i18n';
import { api } from '../state';
import { deskHref, Panel, reasonOf, Status, useOnline } from './common';
import { exifGps, haversineM, type GpsPoint } from './exif';
import { mtCode, useMT } from './i18n';

export function ReviewQueue() {
  const { l, m } = useMT();
  const [box, setBox] = useState<'open' | 'reviewed'>('open');
  const r = useOnline<any>(`/api/v1/visits/review?review=${box}&limit=200`);
  const items: any[] = r.data?.items ?? [];
  return (
    <Panel title={m('review')} testid="review-queue" extra={
      <div class="chips">
        <button class={box === 'open' ? 'chip on' : 'chip'} onClick={() => setBox('open')}>{m('openQueue')}</button>
        <button class={box === 'reviewed' ? 'chip on' : 'chip'} onClick={() => setBox('reviewed')}>{m('reviewed')}</button>
      </div>}>
      <Status loaded={r} />
      {r.data && items.length === 0 && <p class="muted">{m('empty')}</p>}
      {items.length > 0 && (
        <div class="tbl-wrap"><table class="tbl">
          <thead><tr><th>{m('customer')}</th><th>{m('rep')}</th><th>{m('visitedAt')}</th><th>{m('status')}</th><th>{m('checks')}</th><th /></tr></thead>
          <tbody>{items.map((v) => (
            <tr data-testid="review-item" data-id={v.id}>
              <td><a href={deskHref('visit', v.id)}>{v.customer?.name}</a></td>
              <td>{v.author?.display_name}</td>
              <td>{formatDate(l, v.visited_at, true)}</td>
              <td><span class={`vstatus ${v.verification_status}`}>{mtCode(l, 'v_', v.verification_status)}</span>
                {v.review_status !== 'none' && <span class="pill">{mtCode(l, 'rv_', v.review_status)}</span>}</td>
              <td class="small">{(v.failed ?? []).map((c: string) => mtCode(l, 'c_', c)).join('、')}</td>
              <td><a class="small" href={deskHref('visit', v.id)}>{m('review')} →</a></td>
            </tr>
          ))}</tbody>
        </table></div>
      )}
    </Panel>
  );
}

/** A photo fetched with the session (the photo endpoint needs the bearer token). */
function usePhoto(sha: string, size: 'thumb' | 'full'): { url: string; bytes: ArrayBuffer | null } {
  const [state, setState] = useState<{ url: string; bytes: ArrayBuffer | null }>({ url: '', bytes: null });
  useEffect(() => {
    let url = '';
    let live = true;
    api.raw('GET', `/api/v1/photos/${sha}?size=${size}`).then(async (res) => {
      if (!res.ok || !live) return;
      const bytes = await res.arrayBuffer();
      url = URL.createObjectURL(new Blob([bytes], { type: res.headers.get('content-type') ?? 'image/jpeg' }));
      if (live) setState({ url, bytes });
    }, () => undefined);
    return () => {
      live = false;
      if (url) URL.revokeObjectURL(url);
    };
  }, [sha, size]);
  return state;
}

function Photo({ sha, onGps }: { sha: string; onGps: (sha: string, p: GpsPoint | null) => void }) {
  const thumb = usePhoto(sha, 'thumb');
  const full = usePhoto(sha, 'full');
  useEffect(() => {
    if (full.bytes) onGps(sha, exifGps(full.bytes));
  }, [full.bytes]);
  return (
    <a href={full.url || undefined} target="_blank" rel="noopener" data-testid="review-photo" data-loaded={thumb.url ? '1' : '0'}>
      <img src={thumb.url || undefined} alt={sha.slice(0, 8)} />
    </a>
  );
}

function fmtPoint(p: GpsPoint | null | undefined): string {
  return p ? `${p.lat.toFixed(5)}, ${p.lng.toFixed(5)}` : '';
}

export function VisitReview({ id }: { id: string }) {
  const { l, m } = useMT();
  const r = useOnline<any>(`/api/v1/visits/${id}`);
  const visit = r.data;
  const c = useOnline<any>(visit ? `/api/v1/customers/${visit.customer_id}` : null);
  const [gps, setGps] = useState<Record<string, GpsPoint | null>>({});
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState('');
  const [done, setDone] = useState<any>(null);
  const shown = done ?? visit;
  if (!visit) return <Panel title={m('review')}><Status loaded={r} /></Panel>;
  const ver = shown.verification ?? {};
  const fix = shown.position as { lat: number; lng: number; accuracy_m?: number } | null;
  const cust: GpsPoint | null = c.data?.location?.lat != null ? c.data.location : null;
  const exif = Object.values(gps).find((p) => p) ?? null;
  async function decide(decision: 'confirm' | 'false') {
    setBusy(true);
    setErr('');
    try {
      setDone(await api.json('POST', `/api/v1/visits/${id}/review`, { decision, comment: comment.trim() || null }));
    } catch (e) {
      setErr(reasonOf(l, e));
    } finally {
      setBusy(false);
    }
  }
  const posRow = (label: string, p: GpsPoint | null, extra: string, testid: string, toCustomer = true) => (
    <tr data-testid={testid} data-lat={p?.lat ?? ''} data-lng={p?.lng ?? ''}>
      <td>{label}</td><td>{p ? fmtPoint(p) : <span class="muted">{m('unknownPos')}</span>}</td>
      <td class="num">{toCustomer && p && cust ? m('distanceTo', { m: formatNumber(l, Math.round(haversineM(p, cust))) }) : ''}</td>
      <td class="small muted">{extra}</td>
    </tr>
  );
  return (
    <div class="stack" data-testid="visit-review" data-status={shown.verification_status} data-review={shown.review_status}>
      <Panel title={`${shown.customer?.name ?? ''} · ${shown.author?.display_name ?? ''}`}
        extra={<span class={`vstatus ${shown.verification_status}`}>{mtCode(l, 'v_', shown.verification_status)}</span>}>
        <dl class="kv">
          <dt>{m('visitedAt')}</dt><dd>{formatDate(l, shown.visited_at, true)}</dd>
          <dt>{m('receivedAt')}</dt><dd>{formatDate(l, shown.received_at, true)}</dd>
          <dt>{m('captureTime')}</dt><dd>{ver.capture_time ? `${formatDate(l, ver.capture_time, true)} (${ver.time_source ?? ''})` : '—'}</dd>
          <dt>{m('purpose')}</dt><dd>{shown.purpose}</dd>
          {shown.result && <><dt>{m('result')}</dt><dd>{shown.result}</dd></>}
        </dl>
      </Panel>
      <Panel title={m('photos')} testid="review-photos">
        <div class="photos">{(shown.photo_hashes ?? []).map((sha: string) => (
          <Photo key={sha} sha={sha} onGps={(s, p) => setGps((g) => ({ ...g, [s]: p }))} />))}</div>
      </Panel>
      <Panel title={m('positions')} testid="review-positions">
        <div class="tbl-wrap"><table class="tbl"><tbody>
          {posRow(m('phoneFix'), fix ? { lat: fix.lat, lng: fix.lng } : null,
            fix?.accuracy_m != null ? m('accuracy', { m: Math.round(fix.accuracy_m) }) : '', 'pos-phone')}
          {posRow(m('exifGps'), exif, exif && fix ? m('apart', { m: formatNumber(l, Math.round(haversineM(exif, fix))) }) : '', 'pos-exif')}
          {posRow(m('customerPos'), cust, ver.distance_m != null ? `${ver.location_source ?? ''}: ${m('distanceTo', { m: formatNumber(l, ver.distance_m) })}` : '', 'pos-customer', false)}
        </tbody></table></div>
      </Panel>
      <Panel title={m('checks')} testid="review-checks">
        <div class="tbl-wrap"><table class="tbl">
          <thead><tr><th>{m('check')}</th><th>{m('passed')}</th><th class="num">{m('value')}</th><th class="num">{m('threshold')}</th></tr></thead>
          <tbody>{(ver.checks ?? []).map((ch: any) => (
            <tr class={ch.passed === false ? 'bad' : ''} data-testid="check" data-code={ch.code} data-passed={String(ch.passed)}>
              <td>{mtCode(l, 'c_', ch.code)} <span class="muted small">{ch.code}</span></td>
              <td><span class={`pill ${ch.passed === true ? 'pass' : ch.passed === false ? 'fail' : 'na'}`}>
                {m(ch.passed === true ? 'ok' : ch.passed === false ? 'fail' : 'na')}</span></td>
              <td class="num">{ch.value === null || ch.value === undefined ? '—' : typeof ch.value === 'number' ? formatNumber(l, ch.value) : String(ch.value)}</td>
              <td class="num">{ch.threshold === null || ch.threshold === undefined ? '—' : typeof ch.threshold === 'number' ? formatNumber(l, ch.threshold) : String(ch.threshold)}</td>
            </tr>
          ))}</tbody>
        </table></div>
      </Panel>
      <Panel title={m('review')} testid="review-decision">
        {shown.review_status && shown.review_status !== 'none' ? (
          <p class="success" data-testid="review-result">{m('reviewDone', { r: mtCode(l, 'rv_', shown.review_status) })}
            {shown.review_comment ? ` · ${shown.review_comment}` : ''}</p>
        ) : (
          <>
            <textarea placeholder={m('comment')} value={comment} onInput={(e) => setComment(e.currentTarget.value)} data-testid="review-comment" />
            <div class="actions">
              <button disabled={busy || shown.can_review === false} onClick={() => decide('confirm')} data-testid="review-confirm">{m('confirm')}</button>
              <button class="danger" disabled={busy || shown.can_review === false} onClick={() => decide('false')} data-testid="review-false">{m('markFalse')}</button>
            </div>
          </>
        )}
        {err && <p class="error" role="alert">{err}</p>}
        <a href={deskHref('review')}>← {m('back')}</a>
      </Panel>
    </div>
  );
}
