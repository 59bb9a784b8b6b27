import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import type { CreatedInvite, InviteView, Role } from '../../shared/protocol/accounts';
import { createInvite, createSite, getSite, listPatientInvites, listSites, reinstateSite, revokeInvite, suspendSite } from '../api/endpoints';
import { DASH } from '../format';
import { SignInLinks } from '../sites/SignInLinks';
import { AdminHead } from './AdminTabs';
import { ApiTokensPanel } from './ApiTokensPanel';
import { ScrollFrame } from '../layout/ScrollFrame';

const ROLE_LABEL: Record<Role, string> = { platform_admin: 'Platform admin', site_admin: 'Site admin', staff: 'Hospital staff', patient: 'Patient' };
const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : DASH);

/** Hospitals and the people who act for them: create a site, invite its admins and staff, suspend it; invite patients. */
export function SitesPage() {
  const sites = useQuery({ queryKey: ['sites'], queryFn: listSites });
  const [selected, setSelected] = useState<string | null>(null);
  const current = selected ?? sites.data?.[0]?.id ?? null;
  return (
    <div className="admin">
      <AdminHead title="Sites and people" />
      <div className="grid two">
        <section className="panel" aria-labelledby="sites-title">
          <div className="panel-head">
            <h2 id="sites-title">Sites</h2>
            <span className="muted small">{sites.data ? `${sites.data.length} sites` : ''}</span>
          </div>
          {sites.isError && (
            <p role="alert" className="error-text">
              Could not load the sites: {sites.error.message}
            </p>
          )}
          <ScrollFrame label="Sites table">
            <table>
              <thead>
                <tr>
                  <th scope="col">Site</th>
                  <th scope="col" className="num">
                    People
                  </th>
                  <th scope="col">Studies</th>
                  <th scope="col">Status</th>
                </tr>
              </thead>
              <tbody>
                {(sites.data ?? []).map((s) => (
                  <tr key={s.id} data-testid="site-row" data-site={s.id} aria-selected={s.id === current}>
                    <td>
                      <button type="button" className="link-button" onClick={() => setSelected(s.id)}>
                        {s.name}
                      </button>
                      {s.demo && <span className="badge">demo</span>}
                    </td>
                    <td className="num">{s.members}</td>
                    <td className="small">{s.studyIds.join(', ') || DASH}</td>
                    <td>{s.suspendedAt ? <span className="badge warn">suspended</span> : <span className="badge ok">active</span>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollFrame>
          <NewSiteForm onCreated={setSelected} />
        </section>
        {current && <SitePanel siteId={current} />}
      </div>
      <PatientInvites />
      <ApiTokensPanel />
    </div>
  );
}

function NewSiteForm({ onCreated }: { onCreated: (id: string) => void }) {
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const id = useId();
  const create = useMutation({
    mutationFn: () => createSite({ name: name.trim() }),
    onSuccess: (site) => {
      setName('');
      void queryClient.invalidateQueries({ queryKey: ['sites'] });
      onCreated(site.id);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (name.trim().length >= 2) create.mutate();
  };
  return (
    <form className="form inline-form" onSubmit={submit}>
      <div className="field">
        <label htmlFor={id}>New site</label>
        <input id={id} value={name} onChange={(e) => setName(e.target.value)} placeholder="Hospital name" maxLength={120} />
      </div>
      <button type="submit" className="button" disabled={create.isPending || name.trim().length < 2}>
        Create site
      </button>
      {create.isError && (
        <p role="alert" className="error-text">
          {create.error.message}
        </p>
      )}
    </form>
  );
}

function SitePanel({ siteId }: { siteId: string }) {
  const queryClient = useQueryClient();
  const site = useQuery({ queryKey: ['site', siteId], queryFn: () => getSite(siteId) });
  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: ['site', siteId] });
    void queryClient.invalidateQueries({ queryKey: ['sites'] });
  };
  const suspend = useMutation({ mutationFn: (on: boolean) => (on ? suspendSite(siteId) : reinstateSite(siteId)), onSuccess: refresh });
  const [confirming, setConfirming] = useState(false);
  const d = site.data;
  return (
    <section className="panel" aria-labelledby="site-title" data-testid="site-panel">
      <div className="panel-head">
        <h2 id="site-title">{d?.name ?? siteId}</h2>
        {d &&
          (d.suspendedAt ? (
            <button type="button" className="button" onClick={() => suspend.mutate(false)} disabled={suspend.isPending}>
              Reinstate
            </button>
          ) : confirming ? (
            <span className="head-actions">
              <span className="small">End its sessions and invites, refuse its tabs?</span>
              <button
                type="button"
                className="button danger"
                onClick={() => {
                  setConfirming(false);
                  suspend.mutate(true);
                }}
              >
                Suspend {d.name}
              </button>
              <button type="button" className="button ghost" onClick={() => setConfirming(false)}>
                Cancel
              </button>
            </span>
          ) : (
            <button type="button" className="button" onClick={() => setConfirming(true)}>
              Suspend…
            </button>
          ))}
      </div>
      {d?.suspendedAt && (
        <p className="notice warn" data-testid="site-suspended">
          Suspended {when(d.suspendedAt)}: its people cannot sign in and its tabs are refused.
        </p>
      )}
      {suspend.isError && (
        <p role="alert" className="error-text">
          {suspend.error.message}
        </p>
      )}
      <h3>People and their sign-in links</h3>
      {d && <SignInLinks site={d} onChanged={refresh} />}
      {!d?.suspendedAt && <InviteForm siteId={siteId} roles={['site_admin', 'staff']} onCreated={refresh} />}
      <InviteTable invites={d?.invites ?? []} onChanged={refresh} label="Site invites table" />
    </section>
  );
}

export function InviteForm({ siteId, roles, onCreated }: { siteId?: string; roles: Exclude<Role, 'platform_admin'>[]; onCreated: () => void }) {
  const [role, setRole] = useState(roles[0]);
  const [hours, setHours] = useState(72);
  const [created, setCreated] = useState<CreatedInvite | null>(null);
  const ids = { role: useId(), hours: useId() };
  const create = useMutation({
    mutationFn: () => createInvite({ role, siteId, expiresInHours: hours }),
    onSuccess: (inv) => {
      setCreated(inv);
      onCreated();
    },
  });
  return (
    <div className="invite-box">
      <form
        className="form inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate();
        }}
      >
        {roles.length > 1 && (
          <div className="field">
            <label htmlFor={ids.role}>Invite a</label>
            <select id={ids.role} value={role} onChange={(e) => setRole(e.target.value as typeof role)}>
              {roles.map((r) => (
                <option key={r} value={r}>
                  {ROLE_LABEL[r]}
                </option>
              ))}
            </select>
          </div>
        )}
        <div className="field">
          <label htmlFor={ids.hours}>Valid for</label>
          <select id={ids.hours} value={hours} onChange={(e) => setHours(Number(e.target.value))}>
            <option value={24}>1 day</option>
            <option value={72}>3 days</option>
            <option value={168}>7 days</option>
            <option value={720}>30 days</option>
          </select>
        </div>
        <button type="submit" className="button primary" disabled={create.isPending}>
          Create invite
        </button>
      </form>
      {create.isError && (
        <p role="alert" className="error-text">
          {create.error.message}
        </p>
      )}
      {created && (
        <div className="notice" data-testid="new-invite" role="status">
          <p>
            Single-use invite for a {ROLE_LABEL[created.role].toLowerCase()}, valid until {when(created.expiresAt)}. Send this link; it is shown only
            now.
          </p>
          <input readOnly className="mono" value={created.url} aria-label="Invite link" data-testid="invite-url" onFocus={(e) => e.target.select()} />
        </div>
      )}
    </div>
  );
}

export function InviteTable({ invites, onChanged, label = 'Invites table' }: { invites: InviteView[]; onChanged: () => void; /** Names the table's scrolling frame: unique on its page. */ label?: string }) {
  const revoke = useMutation({ mutationFn: revokeInvite, onSuccess: onChanged });
  if (invites.length === 0) return null;
  return (
    <ScrollFrame label={label}>
      <table>
        <caption className="visually-hidden">Invites</caption>
        <thead>
          <tr>
            <th scope="col">Invite</th>
            <th scope="col">Status</th>
            <th scope="col">Expires</th>
            <th scope="col">Used by</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {invites.map((i) => (
            <tr key={i.id} data-testid="invite-row" data-status={i.status}>
              <td>
                {ROLE_LABEL[i.role]} <span className="muted small">by {i.createdBy}</span>
              </td>
              <td>
                <span className={`badge ${i.status === 'open' ? 'ok' : i.status === 'redeemed' ? '' : 'warn'}`}>{i.status}</span>
              </td>
              <td className="small">{when(i.expiresAt)}</td>
              <td className="small">{i.redeemedBy ?? DASH}</td>
              <td>
                {i.status === 'open' && (
                  <button type="button" className="button ghost small" onClick={() => revoke.mutate(i.id)} disabled={revoke.isPending}>
                    Withdraw
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </ScrollFrame>
  );
}

function PatientInvites() {
  const queryClient = useQueryClient();
  const invites = useQuery({ queryKey: ['patient-invites'], queryFn: listPatientInvites });
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['patient-invites'] });
  return (
    <section className="panel" aria-labelledby="patient-invites-title">
      <div className="panel-head">
        <h2 id="patient-invites-title">Patient accounts</h2>
        <span className="muted small">A patient account keeps its chats; anyone can use the chatbot without one.</span>
      </div>
      <InviteForm roles={['patient']} onCreated={refresh} />
      <InviteTable invites={invites.data ?? []} onChanged={refresh} label="Patient invites table" />
    </section>
  );
}
