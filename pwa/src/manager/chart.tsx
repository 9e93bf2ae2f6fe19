/** One report chart (SPEC §10) drawn with ECharts, every segment clicking through to its rows. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { formatMoney, formatNumber } from '../i18n';
import { useMT } from './i18n';

export interface Segment {
  label: string;
  series: string;
  value: number;
  drill: { report: string; params: Record<string, unknown> } | null;
}

export interface ChartData {
  type: 'bar' | 'line' | 'pie';
  x: string[];
  series: { name: string; data: number[] }[];
  segments: Segment[];
}

type Echarts = typeof import('./echarts-setup')['echarts'];
let loading: Promise<Echarts> | null = null;
/** ECharts is fetched the first time a chart is shown, never by the shell. */
export function loadEcharts(): Promise<Echarts> {
  loading ??= import('./echarts-setup').then((m) => m.echarts);
  return loading;
}

const PALETTE = ['#1d4ed8', '#059669', '#d97706', '#dc2626', '#7c3aed', '#0891b2', '#db2777', '#65a30d', '#475569', '#ea580c'];

export function findSegment(chart: ChartData, name: string, seriesName?: string): Segment | undefined {
  return chart.segments.find((s) => s.label === name && (seriesName === undefined || chart.type === 'pie' || s.series === seriesName))
    ?? chart.segments.find((s) => s.label === name);
}

export function chartOption(chart: ChartData, money: boolean, lang: 'zh-CN' | 'en'): any {
  const fmt = (v: number) => (money ? formatMoney(lang, v) : formatNumber(lang, v));
  const axisFmt = (v: number) => (money ? formatNumber(lang, Math.round(v / 100)) : formatNumber(lang, v));
  if (chart.type === 'pie') {
    const s = chart.series[0] ?? { name: '', data: [] };
    return {
      color: PALETTE,
      tooltip: { trigger: 'item', formatter: (p: any) => `${p.name}<br/>${fmt(p.value)} (${p.percent}%)` },
      legend: { type: 'scroll', bottom: 0 },
      series: [{
        name: s.name, type: 'pie', radius: ['35%', '65%'], center: ['50%', '45%'], avoidLabelOverlap: true,
        label: { formatter: '{b}: {d}%' },
        data: chart.x.map((label, i) => ({ name: label, value: s.data[i] ?? 0 })),
      }],
    };
  }
  return {
    color: PALETTE,
    tooltip: { trigger: chart.type === 'line' ? 'axis' : 'item', valueFormatter: (v: number) => fmt(v) },
    legend: chart.series.length > 1 ? { type: 'scroll', top: 0 } : undefined,
    grid: { left: 8, right: 16, top: chart.series.length > 1 ? 36 : 16, bottom: 8, containLabel: true },
    xAxis: { type: 'category', data: chart.x, axisLabel: { hideOverlap: true } },
    yAxis: { type: 'value', axisLabel: { formatter: axisFmt } },
    series: chart.series.map((s) => ({
      name: s.name, type: chart.type, data: s.data,
      ...(chart.type === 'line' ? { smooth: true, symbolSize: 8, triggerLineEvent: true } : { barMaxWidth: 36 }),
      ...(chart.type === 'bar' && chart.series.length > 1 ? { stack: 'total' } : {}),
    })),
  };
}

/**
 * The chart, with `onSegment` called for the clicked segment. The ECharts instance is left on
 * the canvas holder as `__echarts` (tests and the keyboard list below use it).
 */
export function Chart({ chart, money = false, onSegment, height = 280, testid }: {
  chart: ChartData; money?: boolean; onSegment: (s: Segment) => void; height?: number; testid?: string;
}) {
  const { l, m } = useMT();
  const holder = useRef<HTMLDivElement>(null);
  const instance = useRef<any>(null);
  const handler = useRef(onSegment);
  handler.current = onSegment;
  const current = useRef(chart);
  current.current = chart;
  const [ready, setReady] = useState(false);
  useEffect(() => {
    let disposed = false;
    let observer: ResizeObserver | null = null;
    loadEcharts().then((echarts) => {
      if (disposed || !holder.current) return;
      const inst = echarts.init(holder.current, undefined, { renderer: 'canvas' });
      instance.current = inst;
      (holder.current as any).__echarts = inst;
      inst.on('click', (p: any) => {
        const seg = findSegment(current.current, String(p.name), p.seriesName);
        if (seg) handler.current(seg);
      });
      // `finished`: drawn and its animation over (a click now lands on the bar the user sees)
      inst.on('finished', () => holder.current?.parentElement?.setAttribute('data-drawn', '1'));
      observer = new ResizeObserver(() => inst.resize());
      observer.observe(holder.current);
      setReady(true);
    });
    return () => {
      disposed = true;
      observer?.disconnect();
      instance.current?.dispose();
      instance.current = null;
    };
  }, []);
  useEffect(() => {
    if (ready && instance.current) {
      holder.current?.parentElement?.removeAttribute('data-drawn');
      instance.current.setOption(chartOption(chart, money, l), true);
    }
  }, [ready, chart, money, l]);
  const empty = chart.segments.length === 0 && chart.series.every((s) => s.data.every((v) => !v));
  return (
    <div class="chart" data-testid={testid} data-type={chart.type} data-segments={chart.segments.length} data-ready={ready ? '1' : '0'}>
      {empty ? <p class="muted">{m('empty')}</p> : <div ref={holder} class="chart-canvas" style={{ height: `${height}px` }} />}
      {!empty && <p class="muted small">{m('clickSegment')}</p>}
    </div>
  );
}
