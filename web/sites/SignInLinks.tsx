import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import type { IssuedLink, Role, SiteDetail } from '../../shared/protocol/accounts';
import { reissueLink, revokeLinks } from '../api/endpoints';

const ROLE_LABEL: Partial<Record<Role, string>> = { site_admin: 'Site admin', staff: 'Hospital staff' };
const day = (iso: string) => new Date(iso).toLocaleDateString();

/**
 * A site's people, each with their hospital sign-in link: a new link (which ends the earlier ones and
 * disconnects the tabs they opened) or revoking them all. A new link is shown once, here: the server
 * keeps only which generation of links is current, so a lost link is replaced, never looked up.
 * Used by the platform admin's *Sites and people* and by a site admin's own hospital page.
 */
export function SignInLinks({ site, onChanged }: { site: Pick<SiteDetail, 'id' | 'suspendedAt' | 'members'>; onChanged: () => void }) {
  const [issued, setIssued] = useState<IssuedLink | null>(null);
  const [revoked, setRevoked] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
  const reissue = useMutation({
    mutationFn: (userId: string) => reissueLink(site.id, userId),
    onSuccess: (link) => {
      setIssued(link);
      setRevoked(null);
      setCopied(false);
      onChanged();
    },
  });
  const revoke = useMutation({
    mutationFn: (userId: string) => revokeLinks(site.id, userId).then(() => userId),
    onSuccess: (userId) => {
      setRevoked(site.members.find((m) => m.id === userId)?.email ?? userId);
      setIssued((current) => (current?.userId === userId ? null : current));
      onChanged();
    },
  });
  const copy = async (url: string) => {
    try {
      await navigator.clipboard.writeText(url);
      setCopied(true);
    } catch {
      // No clipboard (an insecure origin, a refused permission): the field stays selected for Ctrl+C.
      setCopied(false);
    }
  };
  const busy = reissue.isPending || revoke.isPending;
  const error = reissue.error ?? revoke.error;

  if (site.members.length === 0) return <p className="muted">Nobody yet: invite a site admin or staff below.</p>;
  return (
    <div data-testid="sign-in-links">
      <ul className="plain-list">
        {site.members.map((m) => (
          <li key={m.id} data-testid="member" data-email={m.email}>
            {m.email} <span className="muted small">· {ROLE_LABEL[m.role] ?? m.role}</span>
            {m.linksRevokedAt && <span className="muted small"> · sign-in links last renewed {day(m.linksRevokedAt)}</span>}
            <span className="head-actions" style={{ margin: '0.35rem 0' }}>
              {!site.suspendedAt && (
                <button type="button" className="button small" disabled={busy} onClick={() => reissue.mutate(m.id)} aria-label={`New sign-in link for ${m.email}`}>
                  New sign-in link
                </button>
              )}
              <button type="button" className="button danger small" disabled={busy} onClick={() => revoke.mutate(m.id)} aria-label={`Revoke sign-in links of ${m.email}`}>
                Revoke links
              </button>
            </span>
          </li>
        ))}
      </ul>
      {error && (
        <p role="alert" className="error-text">
          {error.message}
        </p>
      )}
      {revoked && (
        <p className="notice" role="status" data-testid="links-revoked">
          Every sign-in link of {revoked} has stopped working, and the tabs opened with one were disconnected.
        </p>
      )}
      {issued && (
        <div className="notice" role="status" data-testid="new-link">
          <p>
            New sign-in link for {issued.email}, valid until {day(issued.expiresAt)}. Its earlier links no longer work. Send it to them; it is shown only
            now.
          </p>
          <div className="inline-form">
            <input readOnly className="mono" value={issued.url} aria-label="Sign-in link" data-testid="link-url" onFocus={(e) => e.target.select()} />
            <button type="button" className="button" onClick={() => void copy(issued.url)}>
              {copied ? 'Copied' : 'Copy link'}
            </button>
          </div>
        </div>
      )}
    </div>
  );
}
