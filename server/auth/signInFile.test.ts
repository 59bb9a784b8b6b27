import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loggablePath } from '../http/errors';
import { passwordInFile, renderBanner, renderSignInFile, writeSecretFile, type SignInDetails } from './signInFile';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'consilium-signin-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const details: SignInDetails = {
  url: 'http://localhost:3000',
  database: 'embedded PGlite in /data',
  admin: { email: 'admin@consilium.local', password: 'Secret-Pass_1234', madeNow: true },
  demo: [{ name: 'Heart (demo)', open: 'open each hospital in its own tab', hospitals: [{ name: 'St. Aldric', url: 'http://localhost:3000/hospital/aaa.bbb.ccc' }] }],
  linksExpireAt: new Date('2030-01-31T00:00:00Z'),
  notes: [],
};

describe('the sign-in file and the banner', () => {
  it('keeps the secrets out of the banner meant for captured output, and names the file', () => {
    const plain = renderBanner(details, { secrets: false, file: '/data/sign-in.txt' });
    expect(plain).not.toContain('Secret-Pass_1234');
    expect(plain).not.toContain('aaa.bbb.ccc');
    expect(plain).toContain('Consilium is running at http://localhost:3000');
    expect(plain).toContain('readable by this user only, in /data/sign-in.txt');
    const full = renderBanner(details, { secrets: true, file: '/data/sign-in.txt' });
    expect(full).toContain('password: Secret-Pass_1234   (');
    expect(full).toMatch(/^ {4}St\. Aldric\s+http:\/\/localhost:3000\/hospital\/aaa\.bbb\.ccc$/m);
    expect(full).toContain('work until 2030-01-31');
  });

  it('writes the file for its owner only, replacing a readable one, and reads the password back', () => {
    const file = path.join(dir, 'nested', 'sign-in.txt');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, 'old', { mode: 0o644 });
    const umask = process.umask(0);
    try {
      writeSecretFile(file, renderSignInFile(details, file, new Date()));
    } finally {
      process.umask(umask);
    }
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(passwordInFile(file)).toBe('Secret-Pass_1234');
    expect(fs.readdirSync(path.dirname(file))).toEqual(['sign-in.txt']);
    writeSecretFile(file, renderSignInFile({ ...details, admin: { ...details.admin, password: null } }, file, new Date()));
    expect(passwordInFile(file)).toBeNull();
    expect(passwordInFile(path.join(dir, 'missing.txt'))).toBeNull();
  });

  it('leaves invite codes and sign-in links out of the paths an error log line names', () => {
    expect(loggablePath('/api/auth/invites/Zx9-secret-code')).toBe('/api/auth/invites/…');
    expect(loggablePath('/api/auth/invites/redeem')).toBe('/api/auth/invites/redeem');
    expect(loggablePath('/hospital/aaa.bbb.ccc')).toBe('/hospital/…');
    expect(loggablePath('/api/studies/heart-demo/versions/3')).toBe('/api/studies/heart-demo/versions/3');
  });
});
