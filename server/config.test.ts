import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config';
import { selfSignedCert, type SelfSignedCert } from './testing/selfSignedCert';

let tls: SelfSignedCert;
let other: SelfSignedCert;
beforeAll(() => {
  tls = selfSignedCert();
  other = selfSignedCert();
});
afterAll(() => {
  tls.remove();
  other.remove();
});

function messageOf(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('the configuration was accepted');
}

describe('configuration from the environment', () => {
  it('defaults to the embedded database with the demo on', () => {
    expect(loadConfig({})).toMatchObject({ port: 3000, dataDir: '.data', demo: true, databaseUrl: undefined });
  });

  it('makes hospital sign-in links last 30 days unless told, and shows secrets on a terminal unless told not to', () => {
    expect(loadConfig({})).toMatchObject({ hospitalLinkDays: 30, signInOnTerminal: true });
    expect(loadConfig({ HOSPITAL_LINK_DAYS: '7', SIGN_IN_ON_TERMINAL: '0' })).toMatchObject({ hospitalLinkDays: 7, signInOnTerminal: false });
    for (const days of ['0', '1.5', 'forever', '367']) expect(messageOf({ HOSPITAL_LINK_DAYS: days })).toBe('Invalid configuration:\n  HOSPITAL_LINK_DAYS: must be a number of days from 1 to 366');
  });

  it('turns the demo off on PostgreSQL unless asked for, and off with DEMO=0', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://u@h/db' }).demo).toBe(false);
    expect(loadConfig({ DATABASE_URL: 'postgres://u@h/db', DEMO: '1' }).demo).toBe(true);
    expect(loadConfig({ DEMO: '0' }).demo).toBe(false);
  });

  it('keeps the blobs on disk unless given a bucket, and then needs its credentials and a well-formed endpoint', () => {
    expect(loadConfig({}).s3).toBeUndefined();
    const keys = { S3_ACCESS_KEY_ID: 'AKIA1', S3_SECRET_ACCESS_KEY: 'secret' };
    expect(loadConfig({ S3_BUCKET: 'consilium', ...keys }).s3).toEqual({
      bucket: 'consilium', endpoint: undefined, region: 'us-east-1', prefix: undefined, forcePathStyle: false,
      credentials: { accessKeyId: 'AKIA1', secretAccessKey: 'secret' },
    });
    // A self-hosted server is addressed by path unless told otherwise.
    expect(loadConfig({ S3_BUCKET: 'blobs', S3_ENDPOINT: 'http://minio:9000', S3_PREFIX: 'fl/', S3_REGION: 'eu-west-3', ...keys }).s3).toMatchObject({ endpoint: 'http://minio:9000', prefix: 'fl/', region: 'eu-west-3', forcePathStyle: true });
    expect(loadConfig({ S3_BUCKET: 'blobs', S3_ENDPOINT: 'https://s3.example.org', S3_FORCE_PATH_STYLE: '0', ...keys }).s3?.forcePathStyle).toBe(false);
    expect(messageOf({ S3_BUCKET: 'consilium' })).toBe('Invalid configuration:\n  S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY: must be set with S3_BUCKET (the object store\'s credentials)');
    expect(messageOf({ S3_BUCKET: 'consilium', S3_ACCESS_KEY_ID: 'AKIA1' })).toBe('Invalid configuration:\n  S3_SECRET_ACCESS_KEY: must be set with S3_BUCKET (the object store\'s credentials)');
    expect(messageOf({ S3_BUCKET: 'consilium', S3_ENDPOINT: 'minio:9000', ...keys })).toBe(
      'Invalid configuration:\n  S3_ENDPOINT: must be an http:// or https:// URL of the S3-compatible server (e.g. http://minio:9000)',
    );
    expect(messageOf({ S3_BUCKET: 'My_Bucket', ...keys })).toMatch(/^Invalid configuration:\n {2}S3_BUCKET: must be a bucket name/);
    expect(messageOf({ S3_ENDPOINT: 'http://minio:9000' })).toBe('Invalid configuration:\n  S3_BUCKET: must be set to use object storage (S3_ENDPOINT is set without it)');
  });

  it('names every bad variable in one message', () => {
    const run = () => loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', DEMO: 'maybe' });
    expect(run).toThrow(ConfigError);
    try {
      run();
    } catch (err) {
      const msg = (err as Error).message;
      expect(msg).toMatch(/PORT:/);
      expect(msg).toMatch(/DATABASE_URL: must be a postgres/);
      expect(msg).toMatch(/DEMO:/);
    }
  });

  it('reads the demo studies\' local epochs, a whole number from 1', () => {
    expect(loadConfig({}).demoEpochs).toBeUndefined();
    expect(loadConfig({ DEMO_EPOCHS: '1' }).demoEpochs).toBe(1);
    expect(() => loadConfig({ DEMO_EPOCHS: '0' })).toThrow(/DEMO_EPOCHS/);
  });

  it('reads how many hospitals the heart demo has, 3 to 5, three unless told', () => {
    expect(loadConfig({}).demoHeartHospitals).toBeUndefined();
    expect(loadConfig({ DEMO_HEART_HOSPITALS: '5' }).demoHeartHospitals).toBe(5);
    expect(() => loadConfig({ DEMO_HEART_HOSPITALS: '6' })).toThrow(/DEMO_HEART_HOSPITALS/);
  });

  it('wants the TLS certificate and key together', () => {
    expect(() => loadConfig({ TLS_CERT_FILE: tls.certFile })).toThrow(/TLS_KEY_FILE: missing; TLS_CERT_FILE and TLS_KEY_FILE go together/);
    expect(() => loadConfig({ TLS_KEY_FILE: tls.keyFile })).toThrow(/TLS_CERT_FILE: missing/);
    expect(loadConfig({ TLS_CERT_FILE: tls.certFile, TLS_KEY_FILE: tls.keyFile }).tls).toEqual({ certFile: tls.certFile, keyFile: tls.keyFile });
  });

  it('names the TLS variable whose file is missing, with its full path', () => {
    const missing = path.join(tls.dir, 'nope.pem');
    expect(messageOf({ TLS_CERT_FILE: missing, TLS_KEY_FILE: tls.keyFile })).toBe(`Invalid configuration:\n  TLS_CERT_FILE: cannot read ${missing} (no such file)`);
    expect(messageOf({ TLS_CERT_FILE: tls.certFile, TLS_KEY_FILE: tls.dir })).toBe(`Invalid configuration:\n  TLS_KEY_FILE: cannot read ${tls.dir} (a folder, not a file)`);
  });

  it('refuses a TLS file that is not a certificate or key, and a key of another certificate', () => {
    expect(messageOf({ TLS_CERT_FILE: tls.keyFile, TLS_KEY_FILE: tls.keyFile })).toMatch(/TLS_CERT_FILE: .*key\.pem is not a PEM certificate/);
    expect(messageOf({ TLS_CERT_FILE: tls.certFile, TLS_KEY_FILE: tls.certFile })).toMatch(/TLS_KEY_FILE: .*cert\.pem is not an unencrypted PEM private key/);
    expect(messageOf({ TLS_CERT_FILE: tls.certFile, TLS_KEY_FILE: other.keyFile })).toMatch(/TLS_KEY_FILE: the key in .* does not belong to the certificate in TLS_CERT_FILE/);
  });

  it('gives each bad field its own line, TLS included, and never echoes the database URL', () => {
    const msg = messageOf({ PORT: '70000', DATABASE_URL: 'mysql://root:s3cret@db/x', TLS_CERT_FILE: '/no/such/cert.pem', TLS_KEY_FILE: tls.keyFile, LOG_LEVEL: 'loud' });
    expect(msg.split('\n')).toEqual([
      'Invalid configuration:',
      '  PORT: must be a port number from 0 to 65535',
      '  DATABASE_URL: must be a postgres:// or postgresql:// URL',
      '  LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent',
      '  TLS_CERT_FILE: cannot read /no/such/cert.pem (no such file)',
    ]);
    expect(msg).not.toContain('s3cret');
  });

  it('refuses a port that is not a whole number in range', () => {
    for (const port of ['eighty', '-1', '65536', '80.5']) expect(messageOf({ PORT: port })).toBe('Invalid configuration:\n  PORT: must be a port number from 0 to 65535');
    expect(loadConfig({ PORT: '0' }).port).toBe(0);
  });

  it('refuses a DATABASE_URL that is not a PostgreSQL URL', () => {
    for (const url of ['mysql://u@h/db', 'localhost:5432/db', 'postgres://']) expect(messageOf({ DATABASE_URL: url })).toBe('Invalid configuration:\n  DATABASE_URL: must be a postgres:// or postgresql:// URL');
    expect(loadConfig({ DATABASE_URL: 'postgresql://u:p@h:5432/db' }).databaseUrl).toBe('postgresql://u:p@h:5432/db');
  });

  it('reads how many reverse proxies to trust for client addresses', () => {
    expect(loadConfig({}).trustProxyHops).toBe(0);
    expect(loadConfig({ TRUST_PROXY: '1' }).trustProxyHops).toBe(1);
    expect(messageOf({ TRUST_PROXY: 'yes' })).toMatch(/TRUST_PROXY: must be the number of reverse proxies/);
  });

  it('reads the metrics bearer token, refusing a short one or one with spaces', () => {
    expect(loadConfig({}).metricsToken).toBeUndefined();
    expect(loadConfig({ METRICS_TOKEN: 'a'.repeat(32) }).metricsToken).toBe('a'.repeat(32));
    expect(messageOf({ METRICS_TOKEN: 'short' })).toMatch(/METRICS_TOKEN: must be at least 16 characters/);
    expect(messageOf({ METRICS_TOKEN: 'sixteen chars and more' })).toMatch(/METRICS_TOKEN: must not contain spaces/);
  });

  it('reads the bench-only study, params:P,sites:N[,strategy:S][,rounds:R], naming what is wrong', () => {
    expect(loadConfig({}).benchStudy).toBeUndefined();
    expect(loadConfig({ BENCH_STUDY: 'params:10000,sites:10' }).benchStudy).toEqual({ params: 10000, sites: 10, strategy: 'fedavg', rounds: 1 });
    expect(loadConfig({ BENCH_STUDY: 'sites:3, params:385, strategy:median' }).benchStudy).toEqual({ params: 385, sites: 3, strategy: 'median', rounds: 1 });
    expect(loadConfig({ BENCH_STUDY: 'params:10000,sites:10,strategy:fedavg,rounds:50' }).benchStudy).toEqual({ params: 10000, sites: 10, strategy: 'fedavg', rounds: 50 });
    expect(loadConfig({ BENCH_STUDY: 'rounds:1000,params:100,sites:2' }).benchStudy).toEqual({ params: 100, sites: 2, strategy: 'fedavg', rounds: 1000 });
    expect(messageOf({ BENCH_STUDY: 'params=1,sites=2' })).toMatch(/BENCH_STUDY: must be params:P,sites:N\[,strategy:S\]\[,rounds:R\]/);
    expect(messageOf({ BENCH_STUDY: 'params:100,sites:2,extra:1' })).toMatch(/BENCH_STUDY: must be params:P,sites:N/);
    expect(messageOf({ BENCH_STUDY: 'params:100,sites:2,rounds:2,rounds:3' })).toMatch(/BENCH_STUDY: must be params:P,sites:N/);
    expect(messageOf({ BENCH_STUDY: 'params:100' })).toMatch(/BENCH_STUDY\.sites: must be a number of sites/);
    expect(messageOf({ BENCH_STUDY: 'params:3,sites:2' })).toMatch(/BENCH_STUDY\.params: must be a number of parameters from 4/);
    expect(messageOf({ BENCH_STUDY: 'params:100,sites:2,strategy:best' })).toMatch(/BENCH_STUDY\.strategy: must be one of fedavg, /);
    for (const rounds of ['0', '1001', '2.5', 'many'])
      expect(messageOf({ BENCH_STUDY: `params:100,sites:2,rounds:${rounds}` })).toMatch(/BENCH_STUDY\.rounds: must be a number of rounds from 1 to 1000/);
  });
});
