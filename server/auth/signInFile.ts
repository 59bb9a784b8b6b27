import fs from 'node:fs';
import path from 'node:path';

/**
 * The server's secrets for the person who started it (the first-start admin password, the demo
 * hospitals' sign-in links) never go to stdout or stderr as such: both are where logs are captured
 * (containers, CI, `npm start > server.log`). They go to this file in the data folder, readable by
 * its owner only, whose path the console prints; and to the terminal only when there is one.
 */
export const SIGN_IN_FILE = 'sign-in.txt';

/**
 * Write `text` to `file` readable and writable by this user only (0600), atomically: a reader sees
 * the old file or the new one, and the secret is never in a file anyone else may read, not even for
 * a moment (the temporary file is created 0600, whatever the umask).
 */
export function writeSecretFile(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    fs.fchmodSync(fd, 0o600);
    fs.writeFileSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

/** The admin password a previous start wrote in the file, if any (the caller checks it still works). */
export function passwordInFile(file: string): string | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  return /^\s*password:\s+(\S+)\s+\(/m.exec(text)?.[1] ?? null;
}

export interface SignInDetails {
  url: string;
  database: string;
  admin: { email: string; password: string | null; madeNow: boolean };
  demo: { name: string; open: string; hospitals: { name: string; url: string }[] }[];
  /** When this start's hospital links run out. */
  linksExpireAt: Date | null;
  /** Other lines for the banner (the bench study's file). */
  notes: string[];
}

const day = (d: Date) => d.toISOString().slice(0, 10);

/**
 * The console banner. With `secrets`, the password and the links themselves (for the sign-in file and
 * an interactive terminal); without, only where to find them (for output that may be captured).
 */
export function renderBanner(d: SignInDetails, opts: { secrets: boolean; file: string }): string {
  const links = d.demo.reduce((n, s) => n + s.hospitals.length, 0);
  const lines = ['', `  Consilium is running at ${d.url}`, `  Database: ${d.database}`, '', `  Admin console: ${d.url}/admin`, `    email:    ${d.admin.email}`];
  if (d.admin.password && opts.secrets)
    lines.push(`    password: ${d.admin.password}   (${d.admin.madeNow ? 'made now, at first start' : 'made at first start'}: keep it somewhere safe; npm run admin:reset-password sets a new one)`);
  else if (d.admin.password) lines.push(`    password: in the sign-in file named below (${d.admin.madeNow ? 'made now, at first start' : 'made at first start'})`);
  else lines.push('    password: the one made at first start (npm run admin:reset-password sets a new one)');
  if (opts.secrets) {
    // One block per demo study, the heart study first: its links are the ones `npm start` is about.
    for (const s of d.demo) {
      lines.push('', `  Demo study "${s.name}": ${s.open}, then press Join:`);
      for (const h of s.hospitals) lines.push(`    ${h.name.padEnd(34)} ${h.url}`);
    }
    if (links && d.linksExpireAt) lines.push('', `  These sign-in links work until ${day(d.linksExpireAt)}; every start makes new ones.`);
  } else if (links) {
    lines.push('', `  Demo studies: ${d.demo.map((s) => `"${s.name}" (${s.hospitals.length} hospitals)`).join(', ')}; their sign-in links are in the sign-in file named below.`);
  }
  for (const n of d.notes) lines.push('', n);
  lines.push(
    '',
    opts.secrets
      ? `  Sign-in details also kept, readable by this user only, in ${opts.file}`
      : `  Sign-in details (admin password, hospital links), readable by this user only, in ${opts.file}`,
  );
  return `${lines.join('\n')}\n\n`;
}

/** The sign-in file's text: the banner with its secrets, under a note on what the file is. */
export function renderSignInFile(d: SignInDetails, file: string, now: Date): string {
  return [
    `# Consilium sign-in details, written by the server at its start (${now.toISOString()}).`,
    '# Readable by this user only. Every start rewrites it with new hospital sign-in links; the admin',
    '# password stays in it while it still works, until you delete this file.',
    renderBanner(d, { secrets: true, file }).replace(/\n\s*Sign-in details also kept.*\n/, '\n'),
  ].join('\n');
}
