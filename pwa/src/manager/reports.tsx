/** Reports (SPEC §10): list, filters, sorting, paging, charts with drill-down, exports. */
import { useEffect, useState } from 'preact/hooks';
import { formatNumber } from '../i18n';
import { user, useSignal } from '../state';
import { Chart } from './chart';
import { columnTitle, deskHref, download, drillHref, formatCell, isMoneyReport, Panel, reasonOf, Status, useOnline, useTeam } from './common';
import { mtCode, useMT, type MKey } from './i18n';

/** Filters with their own input; any other query parameter is a drill filter shown as such. */
const FILTER_LABELS: Record<string, MKey> = {
  from: 'from', to: 'to', department_id: 'department', user_id: 'user', region: 'region', type: 'type',
  status: 'status', days: 'days',
};
const PAGING = new Set(['sort', 'order', 'page', 'per_page']);
const PER_PAGE = 50;

function queryObject(q: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  q.forEach((v, k) => { out[k] = v; });
  return out;
}

function Filters({ filters, query, onApply }: { filters: string[]; query: Record<string, string>; onApply: (q: Record<string, string>) => void }) {
  const { m } = useMT();
  const { members, departments } = useTeam(true);
  const [draft, setDraft] = useState<Record<string, string>>(query);
  useEffect(() => setDraft(query), [JSON.stringify(query)]);
  const set = (k: string) => (e: any) => setDraft({ ...draft, [k]: e.currentTarget.value });
  const input = (name: string) => {
    const label = FILTER_LABELS[name] ? m(FILTER_LABELS[name]) : name;
    if (name === 'from' || name === 'to') {
      return <label>{label}<input type="date" name={name} value={draft[name] ?? ''} onInput={set(name)} /></label>;
    }
    if (name === 'department_id') {
      return <label>{label}<select name={name} value={draft[name] ?? ''} onChange={set(name)}>
        <option value="">{m('any')}</option>{departments.map((d) => <option value={d.id}>{d.name}</option>)}</select></label>;
    }
    if (name === 'user_id') {
      return <label>{label}<select name={name} value={draft[name] ?? ''} onChange={set(name)}>
        <option value="">{m('any')}</option>{members.map((u) => <option value={u.id}>{u.display_name}</option>)}</select></label>;
    }
    if (name === 'days') {
      return <label>{label}<select name={name} value={draft[name] ?? '7'} onChange={set(name)}>
        <option value="7">7</option><option value="30">30</option></select></label>;
    }
    return <label>{label}<input name={name} value={draft[name] ?? ''} onInput={set(name)} /></label>;
  };
  return (
    <form class="filters" data-testid="report-filters" onSubmit={(e) => { e.preventDefault(); onApply({ ...draft, page: '1' }); }}>
      {filters.map(input)}
      <button type="submit" class="small" data-testid="apply-filters">{m('apply')}</button>
    </form>
  );
}

function ReportView({ reportKey, meta, query }: { reportKey: string; meta: any; query: URLSearchParams }) {
  const { l, m } = useMT();
  const u = useSignal(user);
  const q = queryObject(query);
  const page = Number(q.page ?? 1);
  const params = new URLSearchParams({ ...q, per_page: q.per_page ?? String(PER_PAGE) });
  const r = useOnline<any>(`/api/v1/reports/${reportKey}?${params.toString()}`);
  const [exportErr, setExportErr] = useState('');
  const data = r.data;
  const apply = (next: Record<string, string>) => { location.hash = deskHref('reports', reportKey, next); };
  const sortBy = (col: string) => apply({ ...q, sort: col, order: q.sort === col && q.order !== 'desc' ? 'desc' : 'asc', page: '1' });
  const filters: string[] = meta?.filters ?? [];
  const drillKeys = Object.keys(q).filter((k) => !PAGING.has(k) && !filters.includes(k));
  const pages = data ? Math.max(1, Math.ceil((data.total ?? 0) / (data.per_page || PER_PAGE))) : 1;
  async function exportAs(format: 'xlsx' | 'csv') {
    setExportErr('');
    const p = new URLSearchParams(q);
    p.delete('page');
    p.delete('per_page');
    p.set('format', format);
    try {
      await download(`/api/v1/reports/${reportKey}/export?${p.toString()}`, `${reportKey}.${format}`);
    } catch (e) {
      setExportErr(reasonOf(l, e));
    }
  }
  return (
    <Panel title={data?.title ?? meta?.title ?? reportKey} testid="report" extra={u?.role !== 'rep' && (
      <div class="actions">
        <button class="small secondary" onClick={() => exportAs('xlsx')} data-testid="export-xlsx">{m('exportXlsx')}</button>
        <button class="small secondary" onClick={() => exportAs('csv')} data-testid="export-csv">{m('exportCsv')}</button>
      </div>)}>
      <div data-testid="report-key" data-key={reportKey} hidden />
      {filters.length > 0 && <Filters filters={filters} query={q} onApply={apply} />}
      {drillKeys.length > 0 && (
        <p class="hint small" data-testid="drill-params">
          {m('drillFrom', { what: drillKeys.map((k) => `${k}=${q[k]}`).join(', ') })}{' '}
          <a href={deskHref('reports', reportKey, Object.fromEntries(Object.entries(q).filter(([k]) => !drillKeys.includes(k))))}>✕</a>
        </p>
      )}
      {exportErr && <p class="error" role="alert">{exportErr}</p>}
      <Status loaded={r} />
      {data?.chart && (
        <Chart chart={data.chart} money={isMoneyReport(reportKey)} testid={`chart-${reportKey}`} height={300}
          onSegment={(s) => { if (s.drill) location.hash = drillHref(s.drill); }} />
      )}
      {data && (
        <>
          <div class="muted small" data-testid="report-total" data-total={data.total}>{m('total', { n: formatNumber(l, data.total ?? 0) })}</div>
          <div class="tbl-wrap"><table class="tbl" data-testid="report-table">
            <thead><tr>{data.columns.map((c: any) => (
              <th class={['int', 'money', 'percent'].includes(c.type) ? 'num' : ''}>
                <button class="sort" onClick={() => sortBy(c.key)} data-testid={`sort-${c.key}`}>
                  {columnTitle(c)}{q.sort === c.key ? (q.order === 'desc' ? ' ▼' : ' ▲') : ''}</button>
              </th>))}</tr></thead>
            <tbody>{data.rows.map((row: any) => (
              <tr data-testid="report-row">{data.columns.map((c: any) => (
                <td class={['int', 'money', 'percent'].includes(c.type) ? 'num' : ''}>
                  {c.key === 'verification_status' ? mtCode(l, 'v_', row[c.key]) : formatCell(l, c.type, row[c.key])}</td>
              ))}</tr>
            ))}</tbody>
          </table></div>
          {data.rows.length === 0 && <p class="muted">{m('empty')}</p>}
          {pages > 1 && (
            <div class="actions" data-testid="pager">
              <button class="small secondary" disabled={page <= 1} onClick={() => apply({ ...q, page: String(page - 1) })}>{m('prev')}</button>
              <span class="small">{m('page', { p: page, n: pages })}</span>
              <button class="small secondary" disabled={page >= pages} onClick={() => apply({ ...q, page: String(page + 1) })} data-testid="next-page">{m('next')}</button>
            </div>
          )}
        </>
      )}
    </Panel>
  );
}

export function Reports({ reportKey, query }: { reportKey: string; query: URLSearchParams }) {
  const { m } = useMT();
  const list = useOnline<any[]>('/api/v1/reports');
  const all = list.data ?? [];
  const key = reportKey || all[0]?.key || '';
  const meta = all.find((r) => r.key === key);
  const group = (kind: string, title: string) => (
    <>
      <h4>{title}</h4>
      {all.filter((r) => r.kind === kind).map((r) => (
        <a href={deskHref('reports', r.key)} class={r.key === key ? 'on' : ''} data-testid={`report-link-${r.key}`}>
          {r.title}{r.chart && <span class="has-chart" title={r.chart} />}</a>
      ))}
    </>
  );
  return (
    <div class="report-layout">
      <nav class="card desk-panel report-list" data-testid="report-list">
        <Status loaded={list} />
        {group('query', m('queryReports'))}
        {group('statistics', m('statReports'))}
      </nav>
      {key ? <ReportView key={key} reportKey={key} meta={meta} query={query} /> : <span />}
    </div>
  );
}
