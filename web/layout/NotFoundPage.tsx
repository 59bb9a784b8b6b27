import { Link } from 'react-router';
import { useTitle } from './useTitle';

export function NotFoundPage() {
  useTitle('Page not found');
  return (
    <section className="panel narrow">
      <h1>Page not found</h1>
      <p>
        There is nothing at this address. Hospitals join through the link their study coordinator sent; coordinators use
        the <Link to="/admin">admin console</Link>.
      </p>
    </section>
  );
}
