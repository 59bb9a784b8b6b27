import { z } from 'zod';

const flag = z
  .enum(['0', '1', 'true', 'false', 'yes', 'no', 'on', 'off'])
  .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  DATA_DIR: z.string().min(1).default('.data'),
  DEMO: flag.optional(),
  DEMO_ROUNDS: z.coerce.number().int().min(1).max(1000).optional(),
  DEMO_DEADLINE_MS: z.coerce.number().int().min(1000).optional(),
  DEMO_EPOCHS: z.coerce.number().int().min(1).max(100).optional(),
  ADMIN_EMAIL: z.string().email().default('admin@consilium.local'),
  PUBLIC_URL: z.string().url().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  TLS_CERT_FILE: z.string().optional(),
  TLS_KEY_FILE: z.string().optional(),
  STATIC_DIR: z.string().default('dist/web'),
});

export type Config = {
  port: number;
  host: string;
  databaseUrl?: string;
  dataDir: string;
  demo: boolean;
  demoRounds?: number;
  demoDeadlineMs?: number;
  /** Local epochs per round of the demo studies; each template's own default when unset. */
  demoEpochs?: number;
  adminEmail: string;
  publicUrl?: string;
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  tls?: { certFile: string; keyFile: string };
  staticDir: string;
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Read the environment once, at start, with one clear line per bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const clean = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(clean);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(environment)'}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  if (!!e.TLS_CERT_FILE !== !!e.TLS_KEY_FILE) throw new ConfigError('Invalid configuration:\n  TLS_CERT_FILE and TLS_KEY_FILE go together');
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    dataDir: e.DATA_DIR,
    // The demo seeds itself only on the embedded database unless asked for explicitly.
    demo: e.DEMO ?? !e.DATABASE_URL,
    demoRounds: e.DEMO_ROUNDS,
    demoDeadlineMs: e.DEMO_DEADLINE_MS,
    demoEpochs: e.DEMO_EPOCHS,
    adminEmail: e.ADMIN_EMAIL,
    publicUrl: e.PUBLIC_URL,
    logLevel: e.LOG_LEVEL,
    tls: e.TLS_CERT_FILE && e.TLS_KEY_FILE ? { certFile: e.TLS_CERT_FILE, keyFile: e.TLS_KEY_FILE } : undefined,
    staticDir: e.STATIC_DIR,
  };
}
