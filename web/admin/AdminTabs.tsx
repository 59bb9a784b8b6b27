import { NavLink } from 'react-router';

/** The console's title and sections; who is signed in, and sign-out, are in the top bar. */
export function AdminHead({ title, children }: { title: string; children?: React.ReactNode }) {
  return (
    <section className="page-head">
      <div>
        <p className="eyebrow">Admin console</p>
        <h1>{title}</h1>
        <nav className="tabs" aria-label="Admin console">
          <NavLink to="/admin" end>
            Studies
          </NavLink>
          <NavLink to="/admin/sites">Sites and people</NavLink>
          <NavLink to="/admin/audit">Audit log</NavLink>
          <NavLink to="/admin/log">Server log</NavLink>
        </nav>
      </div>
      <div className="head-actions">
        {children}
      </div>
    </section>
  );
}
