import { useQuery, useQueryClient } from '@tanstack/react-query';
import { getSite } from '../api/endpoints';
import { SignInLinks } from '../sites/SignInLinks';

/** A site admin's part of the hospital page: the site's people, and their sign-in links to renew or revoke. */
export function SiteAdminPanel({ siteId }: { siteId: string }) {
  const queryClient = useQueryClient();
  const site = useQuery({ queryKey: ['site', siteId], queryFn: () => getSite(siteId) });
  return (
    <section className="panel" aria-labelledby="site-people-title" data-testid="site-admin-panel">
      <div className="panel-head">
        <h2 id="site-people-title">Your site's people</h2>
        <span className="muted small">A lost sign-in link is replaced here: the new one ends the old.</span>
      </div>
      {site.isError && (
        <p role="alert" className="error-text">
          Could not load the site: {site.error.message}
        </p>
      )}
      {site.data && <SignInLinks site={site.data} onChanged={() => void queryClient.invalidateQueries({ queryKey: ['site', siteId] })} />}
    </section>
  );
}
