/**
 * The GPS position in a JPEG's EXIF, read in the browser for the review page (the server keeps
 * its own reading for the checks; the visit as answered carries only the resulting distance).
 * Only the GPS IFD is read — never the MakerNote. 0/0 means the phone redacted it (SPEC §7).
 */
export interface GpsPoint {
  lat: number;
  lng: number;
}

export function exifGps(buf: ArrayBuffer): GpsPoint | null {
  const d = new DataView(buf);
  if (d.byteLength < 4 || d.getUint16(0) !== 0xffd8) return null;
  let p = 2;
  try {
    while (p + 4 <= d.byteLength) {
      const marker = d.getUint16(p);
      const size = d.getUint16(p + 2);
      if (marker === 0xffe1 && d.getUint32(p + 4) === 0x45786966 /* "Exif" */) return tiffGps(d, p + 10);
      if ((marker & 0xff00) !== 0xff00 || marker === 0xffda) return null; // start of scan: no EXIF
      p += 2 + size;
    }
  } catch {
    return null; // truncated: reading past the end
  }
  return null;
}

function tiffGps(d: DataView, tiff: number): GpsPoint | null {
  try {
    const little = d.getUint16(tiff) === 0x4949;
    const u16 = (o: number) => d.getUint16(tiff + o, little);
    const u32 = (o: number) => d.getUint32(tiff + o, little);
    const entries = (ifd: number) => {
      const n = u16(ifd);
      const out: { tag: number; type: number; count: number; at: number }[] = [];
      for (let i = 0; i < n; i++) {
        const e = ifd + 2 + i * 12;
        out.push({ tag: u16(e), type: u16(e + 2), count: u32(e + 4), at: e + 8 });
      }
      return out;
    };
    const gpsPtr = entries(u32(4)).find((e) => e.tag === 0x8825);
    if (!gpsPtr) return null;
    const gps = entries(u32(gpsPtr.at));
    const ref = (tag: number) => {
      const e = gps.find((x) => x.tag === tag);
      return e ? String.fromCharCode(d.getUint8(tiff + e.at)) : '';
    };
    const dms = (tag: number) => {
      const e = gps.find((x) => x.tag === tag);
      if (!e || e.type !== 5 || e.count < 3) return null;
      const off = u32(e.at);
      const r = (i: number) => {
        const den = u32(off + i * 8 + 4);
        return den ? u32(off + i * 8) / den : 0;
      };
      return r(0) + r(1) / 60 + r(2) / 3600;
    };
    let lat = dms(2);
    let lng = dms(4);
    if (lat === null || lng === null || (lat === 0 && lng === 0)) return null;
    if (ref(1) === 'S') lat = -lat;
    if (ref(3) === 'W') lng = -lng;
    return { lat, lng };
  } catch {
    return null;
  }
}

/** Great-circle distance in metres (the server uses the same formula). */
export function haversineM(a: GpsPoint, b: GpsPoint): number {
  const R = 6371008.8;
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLng = (b.lng - a.lng) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLng / 2) ** 2;
  return 2 * R * Math.asin(Math.min(1, Math.sqrt(h)));
}
