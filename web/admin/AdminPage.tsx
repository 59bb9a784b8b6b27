import { useMe } from '../account/useMe';
import { isUnauthenticated } from '../api/http';
import { SignInForm } from '../account/SignInForm';
import { AuditPage } from './AuditPage';
import { ServerLogPage } from './ServerLogPage';
import { SitesPage } from './SitesPage';
import { StudyConsole } from './StudyConsole';
import { StudyDesignerPage } from './designer/StudyDesignerPage';
import { useTitle } from '../layout/useTitle';

/** The tab's title: each page's heading, as AdminHead shows it. */
const TITLES = {
  console: 'Admin console',
  'new-study': 'New study · Admin console',
  designer: 'Define a study',
  sites: 'Sites and people · Admin console',
  audit: 'Audit log · Admin console',
  log: 'Server log · Admin console',
} as const;

/** The admin console; `page` picks the study dashboards (default), the new-study form or the study designer. */
export function AdminPage({ page = 'console' }: { page?: 'console' | 'new-study' | 'designer' | 'sites' | 'audit' | 'log' }) {
  useTitle(TITLES[page]);
  const me = useMe();

  if (me.isPending) {
    return (
      <section className="panel narrow" aria-busy="true">
        <p className="loading">Loading…</p>
      </section>
    );
  }
  if ((me.isError && isUnauthenticated(me.error)) || me.data === null) return <SignInForm title="Admin console" lead="Sign in to watch your studies converge, round by round." />;
  if (me.isError) {
    return (
      <section className="panel narrow">
        <h1>Admin console unavailable</h1>
        <p role="alert" className="error-text">
          {me.error.message}
        </p>
        <button type="button" className="button" onClick={() => void me.refetch()}>
          Try again
        </button>
      </section>
    );
  }
  if (me.data.role !== 'platform_admin') {
    return (
      <section className="panel narrow">
        <h1>Platform admins only</h1>
        <p data-testid="forbidden">This console is for platform administrators. You are signed in as {me.data.role === 'hospital' ? `${me.data.email ?? 'staff'} of ${me.data.site.name}` : me.data.email}; sign in with an admin account to go on.</p>
        <SignInForm embedded />
      </section>
    );
  }
  if (page === 'sites') return <SitesPage />;
  if (page === 'audit') return <AuditPage />;
  if (page === 'log') return <ServerLogPage />;
  if (page === 'designer') return <StudyDesignerPage />;
  return <StudyConsole page={page} />;
}
