import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { Link, NavLink, Outlet, useLocation, useNavigate } from 'react-router';
import { useMe } from '../account/useMe';
import { logout } from '../api/endpoints';
import { keepSessionAlive } from '../api/http';
import { ThemeToggle } from '../theme/ThemeToggle';

export function Layout() {
  const { pathname } = useLocation();
  // A tab opened from a hospital's sign-in link carries its own credential; it shows no account menu.
  const hospital = pathname.startsWith('/hospital/');
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <div className="topbar-inner">
          <Link to="/" className="brand" aria-label="Consilium home">
            <Logo />
            <span>Consilium</span>
          </Link>
          {hospital ? (
            <span className="topbar-note">Hospital participant</span>
          ) : (
            <nav aria-label="Main">
              <NavLink to="/" end>
                Overview
              </NavLink>
              <NavLink to="/chat">For patients</NavLink>
              <NavLink to="/hospital">Hospitals</NavLink>
              <NavLink to="/admin">Admin console</NavLink>
            </nav>
          )}
          <div className="topbar-end">
            {!hospital && <AccountMenu />}
            <ThemeToggle />
          </div>
        </div>
      </header>
      <main id="main" className="content">
        <Outlet />
      </main>
      <footer className="footer">
        <span>Consilium · federated learning for hospitals</span>
        <span>Patient records stay in the hospital's browser; only model updates travel.</span>
      </footer>
    </div>
  );
}

const ROLE_NAME = { platform_admin: 'platform admin', hospital: 'hospital', patient: 'patient' } as const;

/** Who is signed in, and sign-out; "Sign in" otherwise. Keeps a signed-in session fresh while open. */
function AccountMenu() {
  const me = useMe();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const signedIn = !!me.data;
  useEffect(() => (signedIn ? keepSessionAlive() : undefined), [signedIn]);
  const signOut = useMutation({
    mutationFn: logout,
    onSettled: () => {
      queryClient.clear();
      void navigate('/');
    },
  });
  if (me.isPending || me.isError) return null;
  if (!me.data) {
    return (
      <Link to="/signin" className="account-link">
        Sign in
      </Link>
    );
  }
  const who = me.data.role === 'hospital' ? `${me.data.email ?? 'staff'} · ${me.data.site.name}` : me.data.email;
  return (
    <div className="account" data-testid="account" data-role={me.data.role === 'hospital' ? me.data.staffRole : me.data.role}>
      <span className="small" title={`Signed in as ${ROLE_NAME[me.data.role]}`}>
        {who}
      </span>
      <button type="button" className="button ghost small" onClick={() => signOut.mutate()} disabled={signOut.isPending}>
        Sign out
      </button>
    </div>
  );
}

function Logo() {
  return (
    <svg width="28" height="28" viewBox="0 0 32 32" aria-hidden="true">
      <rect width="32" height="32" rx="7" fill="currentColor" />
      <path d="M9 16a7 7 0 0 1 12-4.9M23 16a7 7 0 0 1-12 4.9" stroke="#56c2b0" strokeWidth="3" fill="none" strokeLinecap="round" />
    </svg>
  );
}
