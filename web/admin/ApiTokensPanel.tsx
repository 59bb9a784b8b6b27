import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import type { CreatedApiToken } from '../../shared/protocol/monitoring';
import { createApiToken, listApiTokens, revokeApiToken } from '../api/monitoring';
import { useNow } from '../useNow';
import { lastUsedText, sortTokens } from './monitoringView';
import { ScrollFrame } from '../layout/ScrollFrame';

const when = (iso: string) => new Date(iso).toLocaleString();

/**
 * Read-only API tokens for monitoring tools (Grafana, a scraper, a script): create one, copy its
 * secret (shown once: the server keeps only its hash), see when each was last used, revoke it.
 */
export function ApiTokensPanel() {
  const queryClient = useQueryClient();
  const tokens = useQuery({ queryKey: ['api-tokens'], queryFn: listApiTokens });
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['api-tokens'] });
  const [name, setName] = useState('');
  const [created, setCreated] = useState<CreatedApiToken | null>(null);
  const [copied, setCopied] = useState(false);
  const nameId = useId();
  const now = useNow(60_000);
  const create = useMutation({
    mutationFn: () => createApiToken(name.trim()),
    onSuccess: (token) => {
      setCreated(token);
      setCopied(false);
      setName('');
      refresh();
    },
  });
  const revoke = useMutation({
    mutationFn: (id: string) => revokeApiToken(id),
    onSuccess: (_, id) => {
      setCreated((current) => (current?.id === id ? null : current));
      refresh();
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (name.trim()) create.mutate();
  };
  const copy = async (token: string) => {
    try {
      await navigator.clipboard.writeText(token);
      setCopied(true);
    } catch {
      // No clipboard (an insecure origin, a refused permission): the field stays there for Ctrl+C.
      setCopied(false);
    }
  };
  const error = create.error ?? revoke.error ?? tokens.error;

  return (
    <section className="panel" aria-labelledby="api-tokens-title" data-testid="api-tokens" style={{ marginTop: '1rem' }}>
      <div className="panel-head">
        <h2 id="api-tokens-title">API tokens</h2>
        <span className="muted small">Read-only access to the monitoring API, for dashboards and scripts</span>
      </div>
      <form className="inline-form" onSubmit={submit}>
        <label htmlFor={nameId}>Name</label>
        <input id={nameId} value={name} maxLength={100} onChange={(e) => setName(e.target.value)} placeholder="what will use it, e.g. Grafana" />
        <button type="submit" className="button" disabled={!name.trim() || create.isPending}>
          Create token
        </button>
      </form>
      {created && (
        <div className="notice" role="status" data-testid="new-api-token">
          <p>
            Token “{created.name}” created. Copy it now: it is shown once, and cannot be looked up later. Send it as <code>Authorization: Bearer …</code>.
          </p>
          <div className="inline-form">
            <input readOnly className="mono" value={created.token} aria-label="API token" data-testid="api-token-secret" onFocus={(e) => e.target.select()} />
            <button type="button" className="button" onClick={() => void copy(created.token)}>
              {copied ? 'Copied' : 'Copy token'}
            </button>
          </div>
        </div>
      )}
      {error && (
        <p role="alert" className="error-text">
          {error.message}
        </p>
      )}
      {tokens.data && tokens.data.length === 0 && <p className="muted">No tokens yet.</p>}
      {tokens.data && tokens.data.length > 0 && (
        <ScrollFrame label="API tokens table">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">Status</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {sortTokens(tokens.data).map((t) => (
                <tr key={t.id} data-testid="api-token-row" data-token={t.id}>
                  <td>{t.name}</td>
                  <td className="small">
                    {when(t.createdAt)} · {t.createdBy}
                  </td>
                  <td className="small">{lastUsedText(t.lastUsedAt, now)}</td>
                  <td>{t.revokedAt ? <span className="badge warn">revoked {when(t.revokedAt)}</span> : <span className="badge ok">active</span>}</td>
                  <td>
                    {!t.revokedAt && (
                      <button type="button" className="button danger small" disabled={revoke.isPending} onClick={() => revoke.mutate(t.id)} aria-label={`Revoke API token ${t.name}`}>
                        Revoke
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollFrame>
      )}
    </section>
  );
}
