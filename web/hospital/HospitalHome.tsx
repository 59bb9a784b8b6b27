import { SignInForm } from '../account/SignInForm';
import { useMe } from '../account/useMe';
import { sessionCredential } from '../api/http';
import { useTitle } from '../layout/useTitle';
import { HospitalPage } from './HospitalPage';
import { SiteAdminPanel } from './SiteAdminPanel';

/** `/hospital`: the hospital page for staff signed in with a password (a sign-in link opens `/hospital/:token`). */
export function HospitalHome() {
  const me = useMe();
  // A signed-in hospital sees its site's page, which names the tab after the site.
  useTitle(me.data?.role === 'hospital' ? undefined : 'Hospitals');
  if (me.isPending) {
    return (
      <section className="panel narrow" aria-busy="true">
        <p className="loading">Loading…</p>
      </section>
    );
  }
  if (me.isError) {
    return (
      <section className="panel narrow">
        <p role="alert" className="error-text">
          {me.error.message}
        </p>
      </section>
    );
  }
  if (!me.data) return <SignInForm title="Hospital sign-in" lead="Sign in with your hospital staff account to take part in your site's studies." />;
  if (me.data.role !== 'hospital') {
    return (
      <section className="panel narrow">
        <h1>Hospital staff only</h1>
        <p data-testid="forbidden">This page is where hospital staff train their site's models. You are signed in as {me.data.email}.</p>
      </section>
    );
  }
  return (
    <>
      <HospitalPage credential={sessionCredential()} />
      {me.data.staffRole === 'site_admin' && <SiteAdminPanel siteId={me.data.site.id} />}
    </>
  );
}
