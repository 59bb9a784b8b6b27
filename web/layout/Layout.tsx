import { Link, NavLink, Outlet, useLocation } from 'react-router';

export function Layout() {
  const { pathname } = useLocation();
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
              <NavLink to="/admin">Admin console</NavLink>
            </nav>
          )}
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

function Logo() {
  return (
    <svg width="28" height="28" viewBox="0 0 32 32" aria-hidden="true">
      <rect width="32" height="32" rx="7" fill="currentColor" />
      <path d="M9 16a7 7 0 0 1 12-4.9M23 16a7 7 0 0 1-12 4.9" stroke="#56c2b0" strokeWidth="3" fill="none" strokeLinecap="round" />
    </svg>
  );
}
