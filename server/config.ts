import { X509Certificate, createPrivateKey } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { strategies } from '../shared/fl/registry';
import type { StrategyName } from '../shared/fl/strategy';
import { DENSE_BENCH_MAX_PARAMS, DENSE_BENCH_MIN_PARAMS } from '../shared/tasks';
import { chatConfigFromEnv, type ChatConfig } from './chat/config';
import type { S3BlobStoreOptions } from './storage/s3BlobStore';

const flag = z
  .enum(['0', '1', 'true', 'false', 'yes', 'no', 'on', 'off'], { error: 'must be 1 or 0 (true/false, yes/no, on/off)' })
  .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));

const wholeNumber = (min: number, max = Number.MAX_SAFE_INTEGER, what = 'a whole number') => {
  const range = max === Number.MAX_SAFE_INTEGER ? `from ${min}` : `from ${min} to ${max}`;
  const error = `must be ${what} ${range}`;
  return z.coerce.number({ error }).int({ error }).min(min, { error }).max(max, { error });
};

const BENCH_STUDY_FORM = 'params:P,sites:N[,strategy:S][,rounds:R]';

/**
 * `BENCH_STUDY=params:P,sites:N[,strategy:S][,rounds:R]`, for benchmarks only (scripts/bench-round.ts):
 * one study of a dense model of about P parameters with N sites and R rounds (1 unless given), its
 * hospital links written to the data folder.
 */
const benchStudySchema = z
  .string()
  .transform((v, ctx) => {
    const fields: Record<string, unknown> = {};
    for (const part of v.split(',')) {
      const m = /^\s*([a-z]+)\s*:\s*(\S+?)\s*$/.exec(part);
      if (!m || m[1] in fields) {
        ctx.addIssue({ code: 'custom', message: `must be ${BENCH_STUDY_FORM}, not '${v}'` });
        return z.NEVER;
      }
      fields[m[1]] = m[2];
    }
    return fields;
  })
  .pipe(
    z.strictObject(
      {
        params: wholeNumber(DENSE_BENCH_MIN_PARAMS, DENSE_BENCH_MAX_PARAMS, 'a number of parameters'),
        sites: wholeNumber(1, 10_000, 'a number of sites'),
        strategy: z
          .enum(Object.keys(strategies) as [StrategyName, ...StrategyName[]], { error: `must be one of ${Object.keys(strategies).join(', ')}` })
          .default('fedavg'),
        rounds: wholeNumber(1, 1000, 'a number of rounds').default(1),
      },
      { error: (issue) => (issue.code === 'unrecognized_keys' ? `must be ${BENCH_STUDY_FORM}` : undefined) },
    ),
  );

const envSchema = z.object({
  PORT: wholeNumber(0, 65535, 'a port number').default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATABASE_URL: z
    .string()
    .refine((v) => /^postgres(ql)?:\/\/./.test(v) && URL.canParse(v), 'must be a postgres:// or postgresql:// URL')
    .optional(),
  DATA_DIR: z.string().min(1).default('.data'),
  /** Folder of the blob store (default DATA_DIR/blobs): one folder shared by several processes on one machine. */
  BLOB_DIR: z.string().min(1).optional(),
  /** Redis shared by several server processes on one DATABASE_URL (Socket.IO adapter, presence, rate limits). */
  REDIS_URL: z
    .string()
    .refine((v) => /^rediss?:\/\/./.test(v) && URL.canParse(v), 'must be a redis:// or rediss:// URL')
    .optional(),
  /** Prefix of this federation's Redis keys and channels (default 'consilium:'): federations may share one Redis. */
  REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/, { error: 'must be 1 to 64 letters, digits, dots, colons, hyphens or underscores' }).optional(),
  /** This process's name in the logs and among its peers (default: host name and pid). */
  PROCESS_NAME: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, { error: 'must be 1 to 64 letters, digits, dots, hyphens or underscores' }).optional(),
  /** S3-compatible object storage for the blob store, shared by several server processes (see s3Problems). */
  S3_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { error: 'must be a bucket name: 3 to 63 lowercase letters, digits, dots and hyphens' })
    .optional(),
  S3_ENDPOINT: z
    .string()
    .refine((v) => /^https?:\/\/[^/]/.test(v) && URL.canParse(v), 'must be an http:// or https:// URL of the S3-compatible server (e.g. http://minio:9000)')
    .optional(),
  S3_REGION: z.string().regex(/^[a-z0-9-]+$/, { error: 'must be a region name such as us-east-1' }).default('us-east-1'),
  S3_PREFIX: z.string().optional(),
  S3_ACCESS_KEY_ID: z.string().optional(),
  S3_SECRET_ACCESS_KEY: z.string().optional(),
  S3_FORCE_PATH_STYLE: flag.optional(),
  /** Ended rounds (per study, the latest) whose update payloads are kept for audits; 0 deletes them once their version is written. */
  KEEP_UPDATE_ROUNDS: wholeNumber(0, 1_000_000, 'a number of rounds').default(0),
  DEMO: flag.optional(),
  DEMO_ROUNDS: wholeNumber(1, 1000).optional(),
  DEMO_DEADLINE_MS: wholeNumber(1000, Number.MAX_SAFE_INTEGER, 'a number of milliseconds').optional(),
  DEMO_EPOCHS: wholeNumber(1, 100).optional(),
  /** Hospitals in the heart demo study (3 to 5); more than three lets a round close at its deadline with all but one. */
  DEMO_HEART_HOSPITALS: wholeNumber(3, 5).optional(),
  ADMIN_EMAIL: z.string().email({ error: 'must be an email address' }).default('admin@consilium.local'),
  /** Days a hospital sign-in link works from when it is made (printed, or issued in the console). */
  HOSPITAL_LINK_DAYS: wholeNumber(1, 366, 'a number of days').default(30),
  /**
   * Also show the first-start admin password and the demo links on the terminal, when the server's
   * output is one (never when it is redirected or piped: that is where logs are kept). 0: only in the
   * sign-in file (e.g. under `docker run -t`, whose terminal is logged).
   */
  SIGN_IN_ON_TERMINAL: flag.default(true),
  PUBLIC_URL: z
    .string()
    .refine((v) => /^https?:\/\//.test(v) && URL.canParse(v), 'must be an http:// or https:// URL, as browsers reach the server')
    .optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { error: 'must be one of fatal, error, warn, info, debug, trace, silent' }).default('info'),
  TLS_CERT_FILE: z.string().optional(),
  TLS_KEY_FILE: z.string().optional(),
  TRUST_PROXY: wholeNumber(0, 10, 'the number of reverse proxies in front of the server,').default(0),
  /**
   * The bearer token Prometheus sends to scrape `/metrics` from anywhere. Unset: `/metrics` answers only
   * requests from this machine that no proxy forwarded, and platform admins' sessions.
   */
  METRICS_TOKEN: z
    .string()
    .min(16, { error: 'must be at least 16 characters (e.g. `openssl rand -hex 32`)' })
    .regex(/^\S+$/, { error: 'must not contain spaces' })
    .optional(),
  STATIC_DIR: z.string().default('dist/web'),
  CHAT_DAILY_LIMIT: wholeNumber(1, Number.MAX_SAFE_INTEGER, 'a number of messages').default(200),
  LLM_BASE_URL: z
    .string()
    .refine((v) => /^https?:\/\//.test(v) && URL.canParse(v), 'must be an http:// or https:// URL, up to the API version (e.g. http://127.0.0.1:11434/v1)')
    .optional(),
  LLM_MODEL: z.string().min(1).optional(),
  LLM_API_KEY: z.string().min(1).optional(),
  LLM_TIMEOUT_MS: wholeNumber(1000, Number.MAX_SAFE_INTEGER, 'a number of milliseconds').default(20_000),
  LLM_FIRST_TOKEN_TIMEOUT_MS: wholeNumber(500, Number.MAX_SAFE_INTEGER, 'a number of milliseconds').default(10_000),
  BENCH_STUDY: benchStudySchema.optional(),
});

export type Config = {
  port: number;
  host: string;
  databaseUrl?: string;
  dataDir: string;
  /** With DATABASE_URL: run as one of several processes sharing the database through this Redis (`REDIS_URL`). */
  redisUrl?: string;
  /** This process's name among its peers (`PROCESS_NAME`). */
  processName?: string;
  /** Prefix of the federation's Redis keys (`REDIS_PREFIX`). */
  redisPrefix?: string;
  /** Folder of the blob store when not on S3 (`BLOB_DIR`, default `DATA_DIR/blobs`). */
  blobDir: string;
  /** The blob store on S3-compatible object storage (`S3_BUCKET` and its settings); unset: files under `DATA_DIR/blobs`. */
  s3?: S3BlobStoreOptions;
  /** Ended rounds per study whose update payloads stay in the blob store (`KEEP_UPDATE_ROUNDS`). */
  keepUpdateRounds: number;
  demo: boolean;
  demoRounds?: number;
  demoDeadlineMs?: number;
  /** Local epochs per round of the demo studies; each template's own default when unset. */
  demoEpochs?: number;
  demoHeartHospitals?: number;
  adminEmail: string;
  /** Days a hospital sign-in link works (`HOSPITAL_LINK_DAYS`). */
  hospitalLinkDays: number;
  /** Show the admin password and demo links on an interactive terminal too, not only in the sign-in file. */
  signInOnTerminal: boolean;
  publicUrl?: string;
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  tls?: { certFile: string; keyFile: string };
  /** Reverse proxies in front whose X-Forwarded-For is believed for client addresses (rate limits). */
  trustProxyHops: number;
  /** The bearer token that opens `/metrics` to Prometheus (`METRICS_TOKEN`). */
  metricsToken?: string;
  staticDir: string;
  /** The patient chat: daily limit and the optional language model. */
  chat: ChatConfig;
  /** Benchmarks only (`BENCH_STUDY`): seed one study of a dense model of about `params` parameters, `sites` sites and `rounds` rounds. */
  benchStudy?: { params: number; sites: number; strategy: StrategyName; rounds: number };
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Read the environment once, at start, with one clear line per bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const clean = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(clean);
  // Every problem at once, one line each, so a start does not fail once per mistake.
  const problems = parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.') || '(environment)'}: ${i.message}`);
  problems.push(...tlsProblems(clean.TLS_CERT_FILE, clean.TLS_KEY_FILE), ...s3Problems(clean));
  // The embedded database is one process's: sharing a federation needs PostgreSQL.
  if (clean.REDIS_URL && !clean.DATABASE_URL) problems.push('REDIS_URL: several server processes share one PostgreSQL: set DATABASE_URL too');
  // Every process reads what any other stored: a folder they all see, or object storage.
  if (clean.REDIS_URL && !clean.S3_BUCKET && !clean.BLOB_DIR)
    problems.push('REDIS_URL: several server processes share their blob store: set BLOB_DIR to one folder they all see (one machine) or S3_BUCKET (several)');
  const chat = parsed.success ? chatConfigFromEnv(parsed.data) : undefined;
  if (typeof chat === 'string') problems.push(chat);
  if (!parsed.success || !chat || typeof chat === 'string' || problems.length)
    throw new ConfigError(`Invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  const e = parsed.data;
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    dataDir: e.DATA_DIR,
    redisUrl: e.REDIS_URL,
    processName: e.PROCESS_NAME,
    redisPrefix: e.REDIS_PREFIX,
    blobDir: e.BLOB_DIR ?? path.join(e.DATA_DIR, 'blobs'),
    s3: e.S3_BUCKET
      ? {
          bucket: e.S3_BUCKET,
          endpoint: e.S3_ENDPOINT,
          region: e.S3_REGION,
          prefix: e.S3_PREFIX,
          forcePathStyle: e.S3_FORCE_PATH_STYLE ?? Boolean(e.S3_ENDPOINT),
          credentials: { accessKeyId: e.S3_ACCESS_KEY_ID!, secretAccessKey: e.S3_SECRET_ACCESS_KEY! },
        }
      : undefined,
    keepUpdateRounds: e.KEEP_UPDATE_ROUNDS,
    // The demo seeds itself only on the embedded database unless asked for explicitly.
    demo: e.DEMO ?? !e.DATABASE_URL,
    demoRounds: e.DEMO_ROUNDS,
    demoDeadlineMs: e.DEMO_DEADLINE_MS,
    demoEpochs: e.DEMO_EPOCHS,
    demoHeartHospitals: e.DEMO_HEART_HOSPITALS,
    adminEmail: e.ADMIN_EMAIL,
    hospitalLinkDays: e.HOSPITAL_LINK_DAYS,
    signInOnTerminal: e.SIGN_IN_ON_TERMINAL,
    publicUrl: e.PUBLIC_URL,
    logLevel: e.LOG_LEVEL,
    tls: e.TLS_CERT_FILE && e.TLS_KEY_FILE ? { certFile: e.TLS_CERT_FILE, keyFile: e.TLS_KEY_FILE } : undefined,
    staticDir: e.STATIC_DIR,
    trustProxyHops: e.TRUST_PROXY,
    metricsToken: e.METRICS_TOKEN,
    chat,
    benchStudy: e.BENCH_STUDY,
  };
}

/**
 * The object store's settings hang together: a bucket needs both keys (read from the environment, never
 * from a metadata service a test machine may not have), and the other S3_ settings mean nothing
 * without a bucket, so setting them alone is a mistake worth stopping for.
 */
function s3Problems(env: Record<string, string | undefined>): string[] {
  if (!env.S3_BUCKET) {
    const stray = ['S3_ENDPOINT', 'S3_PREFIX', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY', 'S3_FORCE_PATH_STYLE'].filter((k) => env[k]);
    return stray.length ? [`S3_BUCKET: must be set to use object storage (${stray.join(', ')} ${stray.length > 1 ? 'are' : 'is'} set without it)`] : [];
  }
  const absent = ['S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'].filter((k) => !env[k]);
  return absent.length ? [`${absent.join(', ')}: must be set with S3_BUCKET (the object store's credentials)`] : [];
}

/** What reading one file found: its bytes, or why not, worded for the person setting the variable. */
function readSetting(variable: string, file: string): Buffer | string {
  const where = path.resolve(file);
  try {
    return fs.readFileSync(where);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a folder, not a file' : code === 'EACCES' ? 'not readable by this user' : String((err as Error).message);
    return `${variable}: cannot read ${where} (${why})`;
  }
}

/**
 * The certificate and key are read and checked here, so a wrong path or a mismatched pair stops the
 * start with the variable's name rather than failing the first browser's handshake.
 */
function tlsProblems(certFile: string | undefined, keyFile: string | undefined): string[] {
  if (!certFile && !keyFile) return [];
  if (!certFile) return ['TLS_CERT_FILE: missing; TLS_CERT_FILE and TLS_KEY_FILE go together (TLS_KEY_FILE is set)'];
  if (!keyFile) return ['TLS_KEY_FILE: missing; TLS_CERT_FILE and TLS_KEY_FILE go together (TLS_CERT_FILE is set)'];
  const cert = readSetting('TLS_CERT_FILE', certFile);
  const key = readSetting('TLS_KEY_FILE', keyFile);
  const problems = [cert, key].filter((r): r is string => typeof r === 'string');
  let x509: X509Certificate | undefined;
  let privateKey: ReturnType<typeof createPrivateKey> | undefined;
  if (typeof cert !== 'string') {
    try {
      x509 = new X509Certificate(cert);
    } catch {
      problems.push(`TLS_CERT_FILE: ${path.resolve(certFile)} is not a PEM certificate`);
    }
  }
  if (typeof key !== 'string') {
    try {
      privateKey = createPrivateKey(key);
    } catch {
      problems.push(`TLS_KEY_FILE: ${path.resolve(keyFile)} is not an unencrypted PEM private key`);
    }
  }
  if (x509 && privateKey && !x509.checkPrivateKey(privateKey))
    problems.push(`TLS_KEY_FILE: the key in ${path.resolve(keyFile)} does not belong to the certificate in TLS_CERT_FILE`);
  return problems;
}
