import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config';

describe('configuration from the environment', () => {
  it('defaults to the embedded database with the demo on', () => {
    expect(loadConfig({})).toMatchObject({ port: 3000, dataDir: '.data', demo: true, databaseUrl: undefined });
  });

  it('turns the demo off on PostgreSQL unless asked for, and off with DEMO=0', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://u@h/db' }).demo).toBe(false);
    expect(loadConfig({ DATABASE_URL: 'postgres://u@h/db', DEMO: '1' }).demo).toBe(true);
    expect(loadConfig({ DEMO: '0' }).demo).toBe(false);
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

  it('wants the TLS certificate and key together', () => {
    expect(() => loadConfig({ TLS_CERT_FILE: 'cert.pem' })).toThrow(/TLS_CERT_FILE and TLS_KEY_FILE/);
    expect(loadConfig({ TLS_CERT_FILE: 'c.pem', TLS_KEY_FILE: 'k.pem' }).tls).toEqual({ certFile: 'c.pem', keyFile: 'k.pem' });
  });
});
