import { Link } from 'react-router';

export function NotFoundPage() {
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
