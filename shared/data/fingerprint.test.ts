import { describe, expect, it } from 'vitest';
import { demoHospitals, generateHeartRecords } from '../synthetic';
import { heartRisk } from '../tasks';
import { BLOCK_RECORDS, fingerprintRecords, FingerprintBuilder, shortFingerprint, writeCanonicalRecord } from './fingerprint';

describe('dataset fingerprint', () => {
  it('is a SHA-256 hex, the same for the same records, different for one changed value or label', async () => {
    const records = generateHeartRecords(demoHospitals[2]);
    const a = await fingerprintRecords(heartRisk, records);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(await fingerprintRecords(heartRisk, structuredClone(records))).toBe(a);
    const changed = structuredClone(records);
    changed[117].values.trestbps! += 1;
    expect(await fingerprintRecords(heartRisk, changed)).not.toBe(a);
    const relabelled = structuredClone(records);
    relabelled[5].label = 1 - relabelled[5].label;
    expect(await fingerprintRecords(heartRisk, relabelled)).not.toBe(a);
    const nulled = structuredClone(records);
    nulled[0].values.age = null;
    expect(await fingerprintRecords(heartRisk, nulled)).not.toBe(a);
    expect(shortFingerprint(a)).toBe(a.slice(0, 12));
  });

  it('does not depend on record ids, and depends on the number of records across block boundaries', async () => {
    const records = generateHeartRecords({ ...demoHospitals[0], size: BLOCK_RECORDS + 3 });
    const a = await fingerprintRecords(heartRisk, records);
    expect(await fingerprintRecords(heartRisk, records.map((r, i) => ({ ...r, id: `other-${i}` })))).toBe(a);
    expect(await fingerprintRecords(heartRisk, records.slice(0, BLOCK_RECORDS))).not.toBe(a);
    expect(await fingerprintRecords(heartRisk, records.slice(0, -1))).not.toBe(a);
  });

  it('writes values canonically: float64 little-endian, one NaN for missing, -0 as 0', () => {
    const bytes = (values: number[], label: number) => {
      const view = new DataView(new ArrayBuffer(8 * (values.length + 1)));
      writeCanonicalRecord(view, 0, values, label);
      return Array.from(new Uint8Array(view.buffer));
    };
    expect(bytes([-0], 1)).toEqual(bytes([0], 1));
    expect(bytes([NaN], 0)).toEqual(bytes([Number('x')], 0));
    expect(bytes([NaN], 0).slice(0, 8)).toEqual([0, 0, 0, 0, 0, 0, 0xf8, 0x7f]);
    expect(bytes([1], 0).slice(0, 8)).toEqual([0, 0, 0, 0, 0, 0, 0xf0, 0x3f]);
    const empty = new FingerprintBuilder(heartRisk);
    return expect(empty.digest()).resolves.toMatch(/^[0-9a-f]{64}$/);
  });
});
