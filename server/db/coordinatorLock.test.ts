import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatabaseLockedError, openDatabase } from './client';
import { postgresUrl } from '../testing/databases';

describe.skipIf(!postgresUrl)('one coordinating server per PostgreSQL database', () => {
  const name = `consilium_lock_${process.pid}_${randomBytes(4).toString('hex')}`;
  const url = new URL(postgresUrl ?? 'postgres://localhost/none');
  url.pathname = `/${name}`;
  const admin = () => postgres(postgresUrl!, { max: 1, onnotice: () => {} });
  beforeAll(async () => {
    const a = admin();
    await a.unsafe(`CREATE DATABASE ${name}`);
    await a.end();
  });
  afterAll(async () => {
    const a = admin();
    await a.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await a.end();
  });

  it('refuses a second exclusive server, lets non-exclusive clients in, and frees the lock on close', async () => {
    const first = await openDatabase({ url: url.toString(), exclusive: true });
    await expect(openDatabase({ url: url.toString(), exclusive: true })).rejects.toBeInstanceOf(DatabaseLockedError);
    const reader = await openDatabase({ url: url.toString() });
    expect(await reader.ping()).toBe(true);
    await reader.close();
    await first.close();
    const second = await openDatabase({ url: url.toString(), exclusive: true });
    expect(await second.ping()).toBe(true);
    await second.close();
  });
});
