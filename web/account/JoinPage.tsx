import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import { useNavigate, useParams } from 'react-router';
import { previewInvite, redeemInvite } from '../api/endpoints';
import { useTitle } from '../layout/useTitle';

const ROLE_TEXT = { platform_admin: 'a platform admin', site_admin: 'a site admin', staff: 'hospital staff', patient: 'a patient' } as const;

/** `/join/:code`: redeem a single-use invite by choosing an email and a password. */
export function JoinPage() {
  useTitle('Join Consilium');
  const { code = '' } = useParams();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const preview = useQuery({ queryKey: ['invite', code], queryFn: () => previewInvite(code), retry: false });
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [again, setAgain] = useState('');
  const ids = { email: useId(), password: useId(), again: useId() };
  const redeem = useMutation({
    mutationFn: () => redeemInvite({ code, email: email.trim(), password }),
    onSuccess: (r) => {
      void queryClient.invalidateQueries({ queryKey: ['me'] });
      void navigate(r.user.home);
    },
  });
  const mismatch = again.length > 0 && again !== password;
  const short = password.length > 0 && password.length < 10;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!mismatch && !short && email && password) redeem.mutate();
  };

  if (preview.isPending) {
    return (
      <section className="panel narrow" aria-busy="true">
        <p className="loading">Checking the invite…</p>
      </section>
    );
  }
  if (preview.isError) {
    return (
      <section className="panel narrow">
        <h1>This invite cannot be used</h1>
        <p role="alert" className="error-text" data-testid="invite-error">
          {preview.error.message}
        </p>
        <p className="muted">Ask whoever sent it for a new one.</p>
      </section>
    );
  }
  const p = preview.data;
  return (
    <section className="panel narrow" aria-labelledby="join-title">
      <h1 id="join-title">Create your account</h1>
      <p className="muted">
        You are invited to join as {ROLE_TEXT[p.role]}
        {p.site ? ` of ${p.site.name}` : ''}. The invite works once, until {new Date(p.expiresAt).toLocaleString()}.
      </p>
      <form className="form" onSubmit={submit} noValidate>
        <div className="field">
          <label htmlFor={ids.email}>Email</label>
          <input id={ids.email} type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={ids.password}>Password (at least 10 characters)</label>
          <input id={ids.password} type="password" autoComplete="new-password" required value={password} onChange={(e) => setPassword(e.target.value)} aria-invalid={short} />
        </div>
        <div className="field">
          <label htmlFor={ids.again}>Password again</label>
          <input id={ids.again} type="password" autoComplete="new-password" required value={again} onChange={(e) => setAgain(e.target.value)} aria-invalid={mismatch} />
        </div>
        {(mismatch || short) && (
          <p className="error-text" role="alert">
            {short ? 'The password needs at least 10 characters.' : 'The two passwords differ.'}
          </p>
        )}
        {redeem.isError && (
          <p className="error-text" role="alert">
            {redeem.error.message}
          </p>
        )}
        <button type="submit" className="button primary" disabled={redeem.isPending || !email || !password || mismatch || short}>
          {redeem.isPending ? 'Creating…' : 'Create account'}
        </button>
      </form>
    </section>
  );
}
