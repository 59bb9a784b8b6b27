import { serve } from '@hono/node-server';
import fs from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { Server as HttpServer } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { LogHub } from './observability/logHub';
import { createServerLogger } from './observability/serverLogger';
import { createApp } from './app';
import { ensurePlatformAdmin, verifyLogin } from './auth/accounts';
import { passwordInFile, renderBanner, renderSignInFile, SIGN_IN_FILE, writeSecretFile, type SignInDetails } from './auth/signInFile';
import { ConfigError, loadConfig, type Config } from './config';
import { openDatabase } from './db/client';
import { DataDirLockedError, DataDirLockUnavailableError, lockDataDir } from './db/dataDirLock';
import { seedBenchStudy, writeBenchStudyFile } from './demo/benchStudy';
import { seedDemo } from './demo/seed';

function fail(message: string): never {
  process.stderr.write(`\n${message}\n\n`);
  process.exit(1);
}

function baseUrl(config: Config, port: number): string {
  if (config.publicUrl) return config.publicUrl.replace(/\/$/, '');
  const host = ['0.0.0.0', '::', '127.0.0.1', '::1'].includes(config.host) ? 'localhost' : config.host;
  return `${config.tls ? 'https' : 'http'}://${host}:${port}`;
}

async function main() {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
  // The same redacted lines go to stdout and to the hub that keeps the last hour for the admins' live view.
  const logHub = new LogHub();
  const log = createServerLogger({ level: config.logLevel, hub: logHub });

  let releaseLock: (() => void) | undefined;
  if (!config.databaseUrl) {
    try {
      releaseLock = lockDataDir(config.dataDir);
    } catch (err) {
      if (err instanceof DataDirLockedError || err instanceof DataDirLockUnavailableError) fail(err.message);
      throw err;
    }
  }

  // With a bucket, the bytes go to object storage that every server process shares; else beside the data.
  // The AWS SDK loads only when a bucket is configured: a single-process server never pays for it.
  const storage = config.s3
    ? { blobs: new (await import('./storage/s3BlobStore')).S3BlobStore(config.s3) }
    : { blobDir: config.blobDir };
  // With Redis, this is one of several processes on the database; without, the only one (it takes the database's lock).
  const redis = config.redisUrl ? await connectRedis(config.redisUrl) : null;
  const processName = config.processName ?? `${os.hostname()}-${process.pid}`;
  const database = await openDatabase(
    config.databaseUrl
      ? { url: config.databaseUrl, exclusive: !redis, applicationName: redis ? `consilium:${processName}` : 'consilium', ...storage }
      : { dataDir: path.join(config.dataDir, 'pglite'), ...storage },
  ).catch((err: Error) => fail(`Could not open the database: ${err.message}`));
  if (redis) log.info({ process: processName }, 'one of several server processes: studies are coordinated by whichever process holds their lease');

  if (config.s3) {
    const where = { bucket: config.s3.bucket, endpoint: config.s3.endpoint ?? 'AWS', prefix: config.s3.prefix ?? '' };
    // Not fatal: storage that is down for a moment should not stop a start; /api/health says degraded meanwhile.
    if (await database.blobs.ping()) log.info(where, 'blob store: S3-compatible object storage');
    else log.warn(where, 'blob store: the S3 bucket does not answer (check S3_ENDPOINT, S3_BUCKET and the keys); uploads will fail until it does');
  }
  // Processes starting together set the database up one after another (the first admin, the demo).
  const { admin, demo, bench } = await oneAtATime(database, async () => ({
    admin: await ensurePlatformAdmin(database.db, config.adminEmail),
    demo: config.demo
      ? await seedDemo(database.db, { rounds: config.demoRounds, roundDeadlineMs: config.demoDeadlineMs, localEpochs: config.demoEpochs, heartHospitals: config.demoHeartHospitals })
      : null,
    // Benchmarks only; before createApp, which sizes the upload limit from the registered templates.
    bench: config.benchStudy ? await seedBenchStudy(database.db, config.benchStudy) : null,
  }));

  // Browsers reach the server over TLS when it serves TLS itself, or when its public URL (a proxy) is https.
  const overTls = !!config.tls || !!config.publicUrl?.startsWith('https:');
  const consilium = await createApp({
    database,
    logger: log,
    logHub,
    staticDir: config.staticDir,
    secureCookies: overTls,
    tls: overTls,
    trustProxyHops: config.trustProxyHops,
    keepUpdateRounds: config.keepUpdateRounds,
    chat: config.chat,
    hospitalLinkDays: config.hospitalLinkDays,
    metricsToken: config.metricsToken,
    cluster: redis ? { redis, processName, prefix: config.redisPrefix, databaseUrl: config.databaseUrl! } : undefined,
  });

  const server = await new Promise<HttpServer>((resolve) => {
    const s = serve(
      {
        fetch: consilium.app.fetch,
        port: config.port,
        hostname: config.host,
        ...(config.tls
          ? {
              createServer: createHttpsServer,
              serverOptions: { cert: fs.readFileSync(config.tls.certFile), key: fs.readFileSync(config.tls.keyFile) },
            }
          : {}),
      },
      () => resolve(s as HttpServer),
    );
    s.once('error', (err: NodeJS.ErrnoException) =>
      fail(err.code === 'EADDRINUSE' ? `Port ${config.port} on ${config.host} is in use: set PORT to a free one.` : `Could not listen: ${err.message}`),
    );
  });
  await consilium.attach(server);
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  const url = baseUrl(config, port);

  /*
   * The banner is for the person who started the server; its secrets (the first-start admin password,
   * the demo links) are not for whatever keeps the server's output. stdout carries the JSON logs and
   * is captured in containers, CI and `npm start > server.log`; stderr usually too. So the secrets go
   * to a file in the data folder that only this user can read, and the banner names it; an
   * interactive terminal (a person at `npm start`) also gets them at once.
   */
  const signInFile = path.resolve(config.dataDir, SIGN_IN_FILE);
  const carried = admin.password ? null : passwordInFile(signInFile);
  // A password from an earlier start stays in the file only while it still signs in (no reset since).
  const password = admin.password ?? (carried && (await verifyLogin(database.db, admin.email, carried)) ? carried : null);
  const details: SignInDetails = {
    url,
    database: database.kind === 'pglite' ? `embedded PGlite in ${path.resolve(config.dataDir)}` : 'PostgreSQL (DATABASE_URL)',
    admin: { email: admin.email, password, madeNow: !!admin.password },
    demo: [],
    linksExpireAt: null,
    notes: [],
  };
  for (const d of demo?.studies ?? []) {
    const min = d.study.config.minParticipants;
    const open = min < d.hospitals.length ? `open at least ${min} of these hospitals, each in its own tab` : 'open each hospital in its own tab';
    const hospitals: SignInDetails['demo'][number]['hospitals'] = [];
    // Fresh links at every start: earlier starts' links still work until they expire.
    for (const h of d.hospitals) {
      const link = (await consilium.links.issue(h.siteId, h.userId))!;
      details.linksExpireAt = link.expiresAt;
      hospitals.push({ name: h.name, url: `${url}/hospital/${link.token}` });
    }
    details.demo.push({ name: d.study.name, open, hospitals });
  }
  if (bench) {
    const file = await writeBenchStudyFile(config.dataDir, url, bench, consilium.tokens);
    details.notes.push(`  Bench study "${bench.study.id}" (BENCH_STUDY): ${bench.siteIds.length} sites, ${bench.params} parameters; their links are in ${file}`);
  }
  writeSecretFile(signInFile, renderSignInFile(details, signInFile, new Date()));
  const terminal = !config.signInOnTerminal ? null : process.stdout.isTTY ? process.stdout : process.stderr.isTTY ? process.stderr : null;
  if (terminal !== process.stdout) process.stdout.write(renderBanner(details, { secrets: false, file: signInFile }));
  terminal?.write(renderBanner(details, { secrets: true, file: signInFile }));

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    log.info({ signal }, 'shutting down');
    if (redis) {
      /*
       * One of several: drain. No new connections (the balancer's retries go elsewhere, its health
       * check sees 503 meanwhile), the studies handed over, the tabs cut to reconnect elsewhere, the
       * requests in flight finished (at most DRAIN_WAIT_MS), then out.
       */
      const closed = new Promise((r) => server.close(r));
      await consilium.drain();
      await Promise.race([closed, new Promise((r) => setTimeout(r, DRAIN_WAIT_MS).unref())]);
    }
    server.closeAllConnections?.();
    await consilium.close();
    await new Promise((r) => server.close(r));
    await database.close();
    await redis?.quit().catch(() => undefined);
    releaseLock?.();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

/** How long a draining process waits for its requests in flight before it exits. */
const DRAIN_WAIT_MS = 10_000;

async function connectRedis(url: string) {
  const { Redis } = await import('ioredis');
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 });
  // Attached before connecting: a Redis that goes away later is logged by the users of the client, not thrown here.
  redis.on('error', () => undefined);
  await redis.connect().catch((err: Error) => fail(`Could not reach Redis at REDIS_URL: ${err.message}`));
  await redis.ping();
  return redis;
}

/** Runs `fn` under a database-wide lock when processes share PostgreSQL, so that they take turns. */
async function oneAtATime<T>(database: Awaited<ReturnType<typeof openDatabase>>, fn: () => Promise<T>): Promise<T> {
  const client = database.client;
  if (!client) return fn();
  const held = await client.reserve();
  try {
    await held`select pg_advisory_lock(${SETUP_LOCK_KEY})`;
    return await fn();
  } finally {
    await held`select pg_advisory_unlock(${SETUP_LOCK_KEY})`.catch(() => undefined);
    held.release();
  }
}

/** "Setu": the lock processes take turns under while setting the database up. */
const SETUP_LOCK_KEY = 0x53657475;

void main().catch((err) => {
  process.stderr.write(`Consilium failed to start: ${err?.stack ?? err}\n`);
  process.exit(1);
});
