import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { getMe, logout } from '../api/endpoints';
import { isUnauthenticated } from '../api/http';
import { LoginForm } from './LoginForm';
import { StudyConsole } from './StudyConsole';

/** The admin console; `page` picks the study dashboards (default) or the new-study form. */
export function AdminPage({ page = 'console' }: { page?: 'console' | 'new-study' }) {
  const queryClient = useQueryClient();
  const me = useQuery({
    queryKey: ['me'],
    queryFn: () => getMe(),
    retry: (count, e) => !isUnauthenticated(e) && count < 2,
  });
  const signOut = useMutation({
    mutationFn: logout,
    onSettled: () => {
      queryClient.removeQueries({ queryKey: ['studies'] });
      queryClient.removeQueries({ queryKey: ['dashboard'] });
      queryClient.setQueryData(['me'], null);
      void queryClient.invalidateQueries({ queryKey: ['me'] });
    },
  });

  if (me.isPending) {
    return (
      <section className="panel narrow" aria-busy="true">
        <p className="loading">Loading…</p>
      </section>
    );
  }
  if ((me.isError && isUnauthenticated(me.error)) || me.data === null) return <LoginForm />;
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
        <h1>Admins only</h1>
        <p>This console is for platform administrators. Sign in with an admin account.</p>
        <LoginForm embedded />
      </section>
    );
  }
  return <StudyConsole page={page} email={me.data.email} onSignOut={() => signOut.mutate()} signingOut={signOut.isPending} />;
}
