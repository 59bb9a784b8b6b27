import { heartRisk } from '../shared/tasks';
import { MARKER } from '../shared/synthetic/heart';
import { expect, test } from './support/fixtures';

test.use({ serverOptions: { env: { DEMO_ROUNDS: '1' } } });

function f32(v: number) {
  const b = Buffer.alloc(4);
  b.writeFloatLE(v);
  return b;
}
function f64(v: number) {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(v);
  return b;
}

/** Byte patterns a leaked marker row would leave: its id, its raw values, its standardised values. */
function markerNeedles(): { what: string; bytes: Buffer }[] {
  const needles = [
    { what: 'marker id (UTF-8)', bytes: Buffer.from(MARKER.idPrefix, 'utf8') },
    { what: 'marker id (UTF-16)', bytes: Buffer.from(MARKER.idPrefix, 'utf16le') },
  ];
  for (const [name, value] of Object.entries(MARKER.values)) {
    needles.push({ what: `${name}=${value} as float32`, bytes: f32(value) }, { what: `${name}=${value} as float64`, bytes: f64(value) });
    const feature = heartRisk.features.find((f) => f.name === name);
    if (feature?.kind === 'numeric') needles.push({ what: `${name}=${value} standardised, float32`, bytes: f32((value - feature.mean) / feature.std) });
  }
  return needles;
}

/** A row in text form: two of the marker's raw values next to each other, as JSON or CSV would put them. */
const textRow = new RegExp(`\\b(${Object.values(MARKER.values).join('|')})\\b\\D{1,24}\\b(${Object.values(MARKER.values).join('|')})\\b`);

test('no patient record or marker value leaves the hospital tab or its worker', async ({ openHospitals, openAdmin }) => {
  const admin = await openAdmin();
  const hospitals = await openHospitals(3);
  await expect(admin.getByTestId('metrics-row')).toHaveCount(1, { timeout: 120_000 });
  for (const h of hospitals) await expect(h.page.getByTestId('last-accuracy')).toHaveText(/%/, { timeout: 60_000 });

  const needles = markerNeedles();
  for (const h of hospitals) {
    // The markers are really in this browser's data, so the scan below is not vacuous.
    const stored = await h.page.evaluate(async (name) => {
      const db = await new Promise<IDBDatabase>((res, rej) => {
        const r = indexedDB.open(name);
        r.onsuccess = () => res(r.result);
        r.onerror = () => rej(r.error);
      });
      const all = await new Promise<unknown[]>((res) => {
        const r = db.transaction('records').objectStore('records').getAll();
        r.onsuccess = () => res(r.result);
      });
      db.close();
      return { json: JSON.stringify(all) };
    }, `consilium-site-${h.siteId}`);
    expect(stored.json).toContain(MARKER.idPrefix);

    // And the scan saw what the worker sent: the update upload and the control messages.
    const uploads = h.traffic.requestBodies.filter((r) => /\/rounds\/\d+\/updates$/.test(r.url));
    expect(uploads.length, `${h.name} uploaded its update`).toBeGreaterThanOrEqual(1);
    // Socket.IO may send a message by HTTP long-polling before it upgrades to WebSocket: both are scanned.
    const control = [...h.traffic.wsFramesSent, ...h.traffic.requestBodies.map((r) => r.body.toString('latin1'))];
    expect(control.some((f) => f.includes('hospital:join')), `${h.name} joined`).toBe(true);
    expect(control.some((f) => f.includes('hospital:evaluation')), `${h.name} reported its evaluation`).toBe(true);

    for (const req of h.traffic.requestBodies) {
      for (const n of needles) expect(req.body.includes(n.bytes), `${h.name}: ${n.what} in ${req.method} ${req.url}`).toBe(false);
      expect(textRow.test(req.body.toString('latin1')), `${h.name}: a record row in ${req.url}`).toBe(false);
    }
    for (const frame of h.traffic.wsFramesSent) {
      const bytes = Buffer.from(frame, 'latin1');
      for (const n of needles) expect(bytes.includes(n.bytes), `${h.name}: ${n.what} in a WebSocket frame`).toBe(false);
      expect(textRow.test(frame), `${h.name}: a record row in a WebSocket frame: ${frame.slice(0, 200)}`).toBe(false);
    }
  }
});
