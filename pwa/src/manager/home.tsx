/** 业务门户: the manager's home (SPEC §10). Every number and chart segment opens its rows. */
import { useMemo } from 'preact/hooks';
import { formatDate, formatNumber } from '../i18n';
import { Chart, type ChartData } from './chart';
import { columnTitle, drillHref, deskHref, formatCell, isMoneyReport, Panel, Status, todayIso, useOnline } from './common';
import { mtCode, useMT } from './i18n';

/** The statistics shown on the home page, when the server offers them with a chart. */
const HOME_CHARTS = [
  'visits_by_region_month', 'deal_amount_by_user_month', 'deal_amount_by_region_year', 'deals_by_region_user_year',
  'customers_by_type', 'customers_by_stage', 'new_customers_by_region_month', 'deals_this_month_by_user',
];

export function ReportChart({ reportKey, params = {}, height }: { reportKey: string; params?: Record<string, string>; height?: number }) {
  const qs = new URLSearchParams(params).toString();
  const r = useOnline<any>(`/api/v1/reports/${reportKey}${qs ? `?${qs}` : ''}`);
  return (
    <Panel title={r.data?.title ?? reportKey} testid={`chart-panel-${reportKey}`}
      extra={<a class="small" href={deskHref('reports', reportKey, params)}>⋯</a>}>
      <Status loaded={r} />
      {r.data?.chart && (
        <Chart chart={r.data.chart as ChartData} money={isMoneyReport(reportKey)} height={height}
          testid={`chart-${reportKey}`} onSegment={(s) => { if (s.drill) location.hash = drillHref(s.drill); }} />
      )}
    </Panel>
  );
}

function Kpi({ label, value, href, tone = '', testid }: { label: string; value: number | null | undefined; href: string; tone?: string; testid: string }) {
  const { l } = useMT();
  return (
    <a class={`kpi ${tone}`} href={href} data-testid={testid} data-value={value ?? ''}>
      <span class="muted small">{label}</span>
      <b>{value === null || value === undefined ? '…' : formatNumber(l, value)}</b>
    </a>
  );
}

export function Home() {
  const { l, m } = useMT();
  const today = todayIso();
  const visits = useOnline<any>(`/api/v1/reports/visits?from=${today}&to=${today}&per_page=20&sort=visited_at&order=desc`);
  const review = useOnline<any>('/api/v1/visits/review?limit=500');
  const approvals = useOnline<any>('/api/v1/approvals?box=to_decide&status=pending&limit=500');
  const reclaim = useOnline<any>('/api/v1/reports/reclaim_forecast?days=7&per_page=10');
  const completion = useOnline<any>('/api/v1/reports/target_completion?per_page=20');
  const list = useOnline<any[]>('/api/v1/reports');
  const charts = useMemo(() => {
    const offered = new Map((list.data ?? []).map((r) => [r.key, r]));
    return HOME_CHARTS.filter((k) => offered.get(k)?.chart);
  }, [list.data]);
  const visitCols: any[] = visits.data?.columns ?? [];
  const shownCols = visitCols.filter((c) => ['customer_name', 'customer', 'user_name', 'author', 'rep', 'visited_at',
    'verification_status', 'purpose'].includes(c.key)).slice(0, 5);
  const cols = shownCols.length ? shownCols : visitCols.slice(0, 5);
  return (
    <div class="stack" data-testid="desk-home">
      <div class="kpis">
        <Kpi testid="kpi-visits" label={m('todayVisits')} value={visits.data?.total}
          href={deskHref('reports', 'visits', { from: today, to: today })} />
        <Kpi testid="kpi-suspect" tone="bad" label={m('suspectVisits')} value={review.data?.items?.length} href={deskHref('review')} />
        <Kpi testid="kpi-approvals" tone="warn" label={m('approvalsWaiting')} value={approvals.data?.items?.length} href={deskHref('approvals')} />
        <Kpi testid="kpi-reclaim" tone="warn" label={m('reclaimWarnings')} value={reclaim.data?.total}
          href={deskHref('reports', 'reclaim_forecast', { days: 7 })} />
      </div>
      <div class="grid2">
        <Panel title={m('todayVisits')} testid="today-visits"
          extra={<a class="small" href={deskHref('reports', 'visits', { from: today, to: today })}>{m('seeAll')}</a>}>
          <Status loaded={visits} />
          {visits.data && visits.data.rows.length === 0 && <p class="muted">{m('empty')}</p>}
          {visits.data && visits.data.rows.length > 0 && (
            <div class="tbl-wrap"><table class="tbl">
              <thead><tr>{cols.map((c) => <th>{columnTitle(c)}</th>)}</tr></thead>
              <tbody>{visits.data.rows.map((r: any) => (
                <tr data-testid="today-visit">{cols.map((c) => (
                  <td class={['int', 'money'].includes(c.type) ? 'num' : ''}>
                    {c.key === 'verification_status' ? mtCode(l, 'v_', r[c.key]) : formatCell(l, c.type, r[c.key])}
                  </td>))}</tr>
              ))}</tbody>
            </table></div>
          )}
        </Panel>
        <Panel title={m('suspectVisits')} testid="suspect-list" extra={<a class="small" href={deskHref('review')}>{m('seeAll')}</a>}>
          <Status loaded={review} />
          {review.data && review.data.items.length === 0 && <p class="muted">{m('empty')}</p>}
          {(review.data?.items ?? []).slice(0, 8).map((v: any) => (
            <a class="row" href={deskHref('visit', v.id)} data-testid="suspect-item">
              <b>{v.customer?.name}</b><span>{v.author?.display_name}</span>
              <span class={`vstatus ${v.verification_status}`}>{mtCode(l, 'v_', v.verification_status)}</span>
              <span class="muted small">{formatDate(l, v.visited_at, true)} · {(v.failed ?? []).map((c: string) => mtCode(l, 'c_', c)).join('、')}</span>
            </a>
          ))}
        </Panel>
      </div>
      <div class="grid2">
        <Panel title={m('targetCompletion')} testid="target-completion"
          extra={<a class="small" href={deskHref('reports', 'target_completion')}>{m('seeAll')}</a>}>
          <Status loaded={completion} />
          {completion.data?.chart && completion.data.chart.segments?.length > 0 ? (
            <Chart chart={completion.data.chart} testid="chart-target_completion"
              onSegment={(s) => { if (s.drill) location.hash = drillHref(s.drill); }} />
          ) : completion.data && <SmallTable data={completion.data} reportKey="target_completion" />}
        </Panel>
        <Panel title={m('reclaimWarnings')} testid="reclaim-list"
          extra={<a class="small" href={deskHref('reports', 'reclaim_forecast', { days: 7 })}>{m('seeAll')}</a>}>
          <Status loaded={reclaim} />
          {reclaim.data && <SmallTable data={reclaim.data} reportKey="reclaim_forecast" />}
        </Panel>
      </div>
      <h3 class="section">{m('charts')}</h3>
      <Status loaded={list} />
      <div class="grid2" data-testid="home-charts">
        {charts.map((k) => <ReportChart reportKey={k} />)}
      </div>
    </div>
  );
}

function SmallTable({ data, reportKey }: { data: any; reportKey: string }) {
  const { l, m } = useMT();
  const cols: any[] = (data.columns ?? []).slice(0, 5);
  if (!data.rows?.length) return <p class="muted">{m('empty')}</p>;
  return (
    <div class="tbl-wrap"><table class="tbl" data-testid={`table-${reportKey}`}>
      <thead><tr>{cols.map((c) => <th>{columnTitle(c)}</th>)}</tr></thead>
      <tbody>{data.rows.slice(0, 10).map((r: any) => (
        <tr>{cols.map((c) => <td class={['int', 'money', 'percent'].includes(c.type) ? 'num' : ''}>{formatCell(l, c.type, r[c.key])}</td>)}</tr>
      ))}</tbody>
    </table></div>
  );
}
