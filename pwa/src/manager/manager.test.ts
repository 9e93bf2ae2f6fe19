import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { chartOption, findSegment, type ChartData } from './chart';
import { exifGps, haversineM } from './exif';
import { parseDeskHash, deskHref, drillHref } from './common';

const PHOTOS = new URL('../../../../shared/fixtures/photos/', import.meta.url);
const bytes = (name: string) => {
  const b = readFileSync(new URL(name, PHOTOS));
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
};

describe('EXIF GPS read in the browser', () => {
  it('reads north/east and south/west references like exifread does', () => {
    const nikon = exifGps(bytes('gps_DSCN0010.jpg'))!;
    expect(nikon.lat).toBeCloseTo(43.467448, 5);
    expect(nikon.lng).toBeCloseTo(11.885127, 5);
    const iphone = exifGps(bytes('hdr_iphone_hdr_YES.jpg'))!;
    expect(iphone.lat).toBeCloseTo(40.446972, 5);
    expect(iphone.lng).toBeCloseTo(-3.724753, 5); // W
  });
  it('answers null without GPS, for a non-JPEG and for garbage', () => {
    expect(exifGps(bytes('Canon_40D.jpg'))).toBeNull();
    expect(exifGps(new TextEncoder().encode('not a jpeg').buffer)).toBeNull();
    expect(exifGps(new Uint8Array([0xff, 0xd8, 0xff, 0xe1, 0, 4, 0x45, 0x78]).buffer)).toBeNull();
  });
  it('measures distances in metres', () => {
    // one minute of latitude is ~1,852 m
    expect(Math.round(haversineM({ lat: 31, lng: 121 }, { lat: 31 + 1 / 60, lng: 121 }))).toBeGreaterThan(1840);
    expect(Math.round(haversineM({ lat: 31, lng: 121 }, { lat: 31 + 1 / 60, lng: 121 }))).toBeLessThan(1860);
  });
});

describe('desk routes', () => {
  it('round-trips a drill-down into a report route with its filters', () => {
    const href = drillHref({ report: 'visits', params: { region: '上海市黄浦区', from: '2026-11-01', to: '2026-11-30' } });
    const r = parseDeskHash(href);
    expect(r.screen).toBe('reports');
    expect(r.arg).toBe('visits');
    expect(Object.fromEntries(r.query)).toEqual({ region: '上海市黄浦区', from: '2026-11-01', to: '2026-11-30' });
    expect(parseDeskHash('#/desk').screen).toBe('home');
    expect(deskHref('visit', 'abc')).toBe('#/desk/visit/abc');
    expect(deskHref('reports', 'x', { a: '', b: null, c: 0 })).toBe('#/desk/reports/x?c=0');
  });
});

describe('charts', () => {
  const bar: ChartData = {
    type: 'bar', x: ['黄浦', '静安'],
    series: [{ name: '李娜', data: [3, 0] }, { name: '张伟', data: [1, 2] }],
    segments: [
      { label: '黄浦', series: '李娜', value: 3, drill: { report: 'deals', params: { region: '黄浦', user_id: 'a' } } },
      { label: '黄浦', series: '张伟', value: 1, drill: { report: 'deals', params: { region: '黄浦', user_id: 'b' } } },
      { label: '静安', series: '张伟', value: 2, drill: { report: 'deals', params: { region: '静安', user_id: 'b' } } },
    ],
  };
  it('finds the clicked segment by its label and series', () => {
    expect(findSegment(bar, '黄浦', '张伟')?.drill?.params.user_id).toBe('b');
    expect(findSegment(bar, '黄浦', '李娜')?.drill?.params.user_id).toBe('a');
    expect(findSegment(bar, '徐汇', '李娜')).toBeUndefined();
  });
  it('stacks multi-series bars and maps a pie to name/value pairs', () => {
    const opt = chartOption(bar, false, 'zh-CN');
    expect(opt.series.map((s: any) => s.stack)).toEqual(['total', 'total']);
    const pie = chartOption({ type: 'pie', x: ['直客', '渠道'], series: [{ name: 'n', data: [7, 3] }], segments: [] }, false, 'en');
    expect(pie.series[0].data).toEqual([{ name: '直客', value: 7 }, { name: '渠道', value: 3 }]);
  });
  it('shows money axes in yuan while the data stay fen', () => {
    const opt = chartOption({ type: 'line', x: ['1'], series: [{ name: 'a', data: [1234500] }], segments: [] }, true, 'en');
    expect(opt.series[0].data).toEqual([1234500]);
    expect(opt.yAxis.axisLabel.formatter(1234500)).toBe('12,345');
  });
});
