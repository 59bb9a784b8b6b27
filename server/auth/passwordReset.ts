import type { Audit } from '../audit/log';
import type { Clock } from '../clock';
import type { Db } from '../db/client';
import { generatePassword, setPassword } from './accounts';
import { revokeAccountLinks } from './links';
import type { Sessions } from './sessions';

export interface PasswordReset {
  /** Shown once to whoever asked; never stored in clear or logged. */
  password: string;
  sessionsEnded: number;
}

/**
 * A new random password for an account. A reset is what one does when an account may be in the
 * wrong hands, so everything that speaks for it ends too: its sessions and its hospital sign-in links.
 */
export async function resetPassword(
  deps: { db: Db; clock: Clock; sessions: Pick<Sessions, 'endAll' | 'forgetLinks'>; audit?: Audit },
  user: { id: string; email: string },
  actor: string,
): Promise<PasswordReset> {
  const password = generatePassword();
  await setPassword(deps.db, user.id, password);
  const sessionsEnded = await deps.sessions.endAll({ userId: user.id });
  await revokeAccountLinks(deps.db, deps.clock, user.id, deps.sessions);
  await deps.audit?.({ action: 'auth.password_reset', actor: { label: actor }, target: user.email, detail: { sessionsEnded, linksRevoked: true } });
  return { password, sessionsEnded };
}
