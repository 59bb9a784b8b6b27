import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { LogLine } from '../../shared/protocol/logView';
import { LogHub } from './logHub';
import { loggerOptions, REDACTED, redactPaths } from './logRedaction';
import { createServerLogger } from './serverLogger';

const T0 = Date.parse('2030-01-01T12:00:00Z');

/** A hub on a clock the test moves, and a logger into it whose lines carry that clock's time. */
function setup(opts: { maxLines?: number; maxAgeMs?: number } = {}) {
  let now = T0;
  const clock = { now: () => now };
  const hub = new LogHub({ ...opts, clock });
  const log = pino({ ...loggerOptions('debug'), timestamp: () => `,"time":${now}` }, hub);
  return { hub, log, advance: (ms: number) => (now += ms) };
}

const msgs = (lines: LogLine[]) => lines.map((l) => l.msg);

describe('the log hub', () => {
  it('keeps lines with their level, study, site and other fields, in order with increasing sequence numbers', () => {
    const { hub, log } = setup();
    log.info({ studyId: 'heart', round: 2, version: 3 }, 'round aggregated');
    log.warn({ studyId: 'heart', siteId: 'north', reason: 'late' }, 'update refused');
    log.error({ err: new Error('disk full') }, 'unhandled error');
    const [a, b, c] = hub.recent();
    expect(a).toEqual({ seq: 1, time: T0, level: 'info', msg: 'round aggregated', studyId: 'heart', fields: { round: 2, version: 3 } });
    expect(b).toMatchObject({ seq: 2, level: 'warn', studyId: 'heart', siteId: 'north', fields: { reason: 'late' } });
    // An error is kept as what a person reads; its stack stays on stdout.
    expect(c).toMatchObject({ seq: 3, level: 'error', fields: { err: { type: 'Error', message: 'disk full' } } });
    expect(JSON.stringify(c.fields)).not.toContain('at ');
  });

  it('drops lines older than an hour, and only those', () => {
    const { hub, log, advance } = setup();
    log.info('first');
    advance(30 * 60_000);
    log.info('second');
    advance(30 * 60_000);
    expect(msgs(hub.recent())).toEqual(['first', 'second']);
    advance(1);
    expect(msgs(hub.recent())).toEqual(['second']);
    advance(30 * 60_000);
    expect(hub.recent()).toEqual([]);
    expect(hub.size).toBe(0);
  });

  it('keeps at most maxLines, dropping the oldest, however many pass through the ring', () => {
    const { hub, log } = setup({ maxLines: 3 });
    for (let i = 1; i <= 10; i++) log.info(`line ${i}`);
    expect(msgs(hub.recent())).toEqual(['line 8', 'line 9', 'line 10']);
    expect(hub.recent().map((l) => l.seq)).toEqual([8, 9, 10]);
    expect(hub.size).toBe(3);
  });

  it('filters by study and by least severe level', () => {
    const { hub, log } = setup();
    log.debug({ studyId: 'heart' }, 'heart debug');
    log.info({ studyId: 'heart' }, 'heart info');
    log.warn({ studyId: 'lesion' }, 'lesion warn');
    log.error('server error');
    log.fatal({ studyId: 'heart' }, 'heart fatal');
    expect(msgs(hub.recent({ studyId: 'heart' }))).toEqual(['heart debug', 'heart info', 'heart fatal']);
    expect(msgs(hub.recent({ minLevel: 'warn' }))).toEqual(['lesion warn', 'server error', 'heart fatal']);
    expect(msgs(hub.recent({ studyId: 'heart', minLevel: 'info' }))).toEqual(['heart info', 'heart fatal']);
    expect(msgs(hub.recent({ minLevel: 'error' }))).toEqual(['server error', 'heart fatal']);
  });

  it('hands each new line to its subscribers until they stop; a failing subscriber harms neither the others nor the logger', () => {
    const { hub, log } = setup();
    const got: string[] = [];
    hub.subscribe(() => {
      throw new Error('broken subscriber');
    });
    const stop = hub.subscribe((l) => got.push(l.msg));
    log.info('one');
    stop();
    log.info('two');
    expect(got).toEqual(['one']);
    expect(msgs(hub.recent())).toEqual(['one', 'two']);
  });

  it('keeps a line that is not JSON as its text, and cuts very long values', () => {
    const { hub, log } = setup();
    hub.write('plain text\n');
    log.info({ blob: 'x'.repeat(5_000) }, 'long');
    const [plain, long] = hub.recent();
    expect(plain).toMatchObject({ level: 'info', msg: 'plain text', fields: {} });
    expect((long.fields.blob as string).length).toBe(2_001);
  });
});

/** `{ a: { b: value } }` for the path `a.b`, `{ any: { b: value } }` for `*.b`, and `headers["set-cookie"]` alike. */
function objectAt(path: string, value: string): Record<string, unknown> {
  const keys = [...path.matchAll(/([^.[\]"]+)|\["([^"]+)"\]/g)].map((m) => (m[1] ?? m[2]) === '*' ? 'anything' : (m[1] ?? m[2]));
  return keys.reduceRight<unknown>((inner, key) => ({ [key]: inner }), value) as Record<string, unknown>;
}

describe('the logger’s redaction', () => {
  it.each([...redactPaths])('redacts %s on the way to the hub', (path) => {
    const { hub, log } = setup();
    log.info(objectAt(path, 'SECRET-VALUE'), 'something happened');
    const [line] = hub.recent();
    const text = JSON.stringify(line);
    expect(text).not.toContain('SECRET-VALUE');
    expect(text).toContain(REDACTED);
  });

  it('redacts the secrets and patient text a careless log call could carry, and keeps what operators need', () => {
    const { hub, log } = setup();
    log.warn(
      {
        studyId: 'heart',
        code: 'norm_bound',
        password: 'hunter2',
        user: { email: 'a@b.test', password: 'hunter2' },
        token: 'eyJhbGciOi',
        headers: { cookie: 'consilium_session=abc', authorization: 'Bearer abc', 'user-agent': 'test' },
        inviteCode: 'ABCD-EFGH',
        invite: { code: 'ABCD-EFGH', role: 'staff' },
        question: 'I have chest pain since yesterday',
        chat: { message: 'my mother has diabetes', conversationId: 'c1' },
        answer: 'Call your doctor',
      },
      'a careless line',
    );
    const [line] = hub.recent();
    const text = JSON.stringify(line);
    for (const secret of ['hunter2', 'eyJhbGciOi', 'consilium_session', 'Bearer', 'ABCD-EFGH', 'chest pain', 'diabetes', 'Call your doctor']) expect(text).not.toContain(secret);
    expect(line.fields).toMatchObject({ code: 'norm_bound', user: { email: 'a@b.test' }, headers: { 'user-agent': 'test' }, invite: { role: 'staff' }, chat: { conversationId: 'c1' } });
  });

  it('redacts the same way on stdout, where the server logger writes the same lines', () => {
    const hub = new LogHub();
    const out: string[] = [];
    const log = createServerLogger({ level: 'info', hub, stdout: { write: (s: string) => void out.push(s) } });
    log.info({ studyId: 'heart', password: 'hunter2' }, 'signed in');
    log.debug('below the level');
    expect(out).toHaveLength(1);
    expect(out[0]).toContain(`"password":"${REDACTED}"`);
    expect(hub.recent()).toEqual([expect.objectContaining({ msg: 'signed in', studyId: 'heart', fields: { password: REDACTED } })]);
  });
});
