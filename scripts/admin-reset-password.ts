// `npm run admin:reset-password [-- --email someone@example.org]`: a new password for the platform
// admin (or the named account), printed once; every session and hospital sign-in link of that account ends.
import { eq } from 'drizzle-orm';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createAudit } from '../server/audit/log';
import { resetPassword } from '../server/auth/passwordReset';
import { createSessions } from '../server/auth/sessions';
import { createTokens } from '../server/auth/tokens';
import { loadSigningKey } from '../server/auth/secret';
import { systemClock } from '../server/clock';
import { ConfigError, loadConfig } from '../server/config';
import { openDatabase } from '../server/db/client';
import { DataDirLockedError, lockDataDir } from '../server/db/dataDirLock';
import { users } from '../server/db/schema';

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

const { values } = parseArgs({ options: { email: { type: 'string' } } });
let config;
try {
  config = loadConfig();
} catch (err) {
  fail(err instanceof ConfigError ? err.message : String(err));
}

let release: (() => void) | undefined;
if (!config.databaseUrl) {
  try {
    release = lockDataDir(config.dataDir);
  } catch (err) {
    if (err instanceof DataDirLockedError) fail(`The server is running on ${path.resolve(config.dataDir)}: stop it first (the embedded database has one user at a time).`);
    throw err;
  }
}
const database = await openDatabase(config.databaseUrl ? { url: config.databaseUrl } : { dataDir: path.join(config.dataDir, 'pglite') });
try {
  const db = database.db;
  const [user] = values.email
    ? await db.select().from(users).where(eq(users.email, values.email.toLowerCase()))
    : await db.select().from(users).where(eq(users.role, 'platform_admin')).limit(1);
  if (!user) fail(values.email ? `No account with the email ${values.email}.` : 'There is no platform admin yet: start the server once to create it.');
  const sessions = createSessions({ db, tokens: createTokens(await loadSigningKey(db)), clock: systemClock });
  const { password, sessionsEnded: ended } = await resetPassword({ db, clock: systemClock, sessions, audit: createAudit(db) }, user, 'admin:reset-password');
  // A person ran this command for this answer: it goes to their terminal, not to the server's log.
  process.stdout.write(
    `\n  New password for ${user.email}: ${password}\n  (shown this once; ${ended} open session${ended === 1 ? '' : 's'} and any hospital sign-in links of the account ended)\n\n`,
  );
} finally {
  await database.close();
  release?.();
}
