import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import type { LoginResult } from '../../shared/protocol';
import { login } from '../api/endpoints';
import { ApiRequestError } from '../api/http';

/**
 * Email and password sign-in, for every role. On its own it is a page panel with a title; `embedded`
 * gives the bare form. `onSignedIn` decides where the person goes next (default: stay, refetch who I am).
 */
export function SignInForm({
  embedded = false,
  title = 'Sign in',
  lead = 'Sign in with the email and password of your Consilium account.',
  onSignedIn,
}: {
  embedded?: boolean;
  title?: string;
  lead?: string;
  onSignedIn?: (result: LoginResult) => void;
}) {
  const queryClient = useQueryClient();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const ids = { email: useId(), password: useId(), error: useId() };
  const mutation = useMutation({
    mutationFn: () => login(email.trim(), password),
    onSuccess: (result) => {
      setPassword('');
      void queryClient.invalidateQueries({ queryKey: ['me'] });
      onSignedIn?.(result);
    },
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!mutation.isPending) mutation.mutate();
  };

  const error = mutation.error
    ? mutation.error instanceof ApiRequestError && mutation.error.status === 401
      ? 'Email or password is incorrect.'
      : mutation.error instanceof ApiRequestError && mutation.error.status === 429
        ? `${mutation.error.message}. Try again later.`
        : mutation.error.message
    : null;

  const form = (
    <form className="form" onSubmit={submit} aria-describedby={error ? ids.error : undefined} noValidate>
      <div className="field">
        <label htmlFor={ids.email}>Email</label>
        <input
          id={ids.email}
          name="email"
          type="email"
          autoComplete="username"
          required
          value={email}
          onChange={(e) => setEmail(e.target.value)}
        />
      </div>
      <div className="field">
        <label htmlFor={ids.password}>Password</label>
        <input
          id={ids.password}
          name="password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
      </div>
      {error && (
        <p id={ids.error} role="alert" className="error-text">
          {error}
        </p>
      )}
      <button type="submit" className="button primary" disabled={mutation.isPending || !email || !password}>
        {mutation.isPending ? 'Signing in…' : 'Sign in'}
      </button>
    </form>
  );

  if (embedded) return form;
  return (
    <section className="panel narrow login" aria-labelledby="login-title">
      <h1 id="login-title">{title}</h1>
      <p className="muted">{lead}</p>
      {form}
    </section>
  );
}
