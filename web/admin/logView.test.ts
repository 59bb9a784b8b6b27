import { describe, expect, it } from 'vitest';
import type { LogLine } from '../../shared/protocol/logView';
import { atBottom, keyFields, lineTime, mergeLines } from './logView';

const line = (seq: number, extra: Partial<LogLine> = {}): LogLine => ({ seq, time: 0, level: 'info', msg: `line ${seq}`, fields: {}, ...extra });
const seqs = (lines: LogLine[]) => lines.map((l) => l.seq);

describe('mergeLines', () => {
  it('appends live lines after the kept ones', () => {
    expect(seqs(mergeLines([line(1), line(2)], [line(3)]))).toEqual([1, 2, 3]);
  });

  it('puts lines that came early or twice in their place, once', () => {
    // Live lines that arrived before the kept ones they follow, and a line both kept and live.
    expect(seqs(mergeLines([line(5), line(6)], [line(2), line(3), line(5)]))).toEqual([2, 3, 5, 6]);
  });

  it('keeps the newest `max` lines', () => {
    const many = Array.from({ length: 10 }, (_, i) => line(i + 1));
    expect(seqs(mergeLines([], many, 4))).toEqual([7, 8, 9, 10]);
    expect(seqs(mergeLines(many.slice(0, 4), [line(11)], 3))).toEqual([3, 4, 11]);
  });
});

describe('keyFields', () => {
  it('puts the round and version first and names the site', () => {
    const l = line(1, { siteId: 'north', fields: { contributors: 2, extra: true, version: 3, round: 3, participantId: 'p-1' } });
    expect(keyFields(l, new Map([['north', 'North Hospital']]))).toBe('site North Hospital · round 3 · version 3 · contributors 2 · extra true');
  });

  it('shows an error as its type and message, and objects as JSON', () => {
    expect(keyFields(line(1, { fields: { err: { type: 'Error', message: 'disk full' }, changed: ['localEpochs'] } }))).toBe('err Error: disk full · changed ["localEpochs"]');
  });

  it('leaves the site to the line when it names it itself', () => {
    expect(keyFields(line(1, { siteId: 'north', fields: { site: 'North Hospital' } }))).toBe('site North Hospital');
  });
});

describe('lineTime and atBottom', () => {
  it('formats a time to the millisecond', () => {
    expect(lineTime(new Date(2030, 0, 1, 9, 5, 7, 42).getTime())).toBe('09:05:07.042');
  });

  it('says whether the box is scrolled to its bottom', () => {
    expect(atBottom({ scrollTop: 600, scrollHeight: 1000, clientHeight: 400 })).toBe(true);
    expect(atBottom({ scrollTop: 595, scrollHeight: 1000, clientHeight: 400 })).toBe(true);
    expect(atBottom({ scrollTop: 300, scrollHeight: 1000, clientHeight: 400 })).toBe(false);
  });
});
