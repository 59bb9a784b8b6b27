import { useQuery } from '@tanstack/react-query';
import { getMe } from '../api/endpoints';
import { isUnauthenticated, maybeSignedIn } from '../api/http';

/** Who is signed in (by cookie), or null when nobody is. */
export function useMe() {
  return useQuery({
    queryKey: ['me'],
    // No session cookie: signed out, known without asking the server (and without a 401 in the console).
    queryFn: () => (maybeSignedIn() ? getMe().catch((e: unknown) => (isUnauthenticated(e) ? null : Promise.reject(e))) : Promise.resolve(null)),
    retry: (count, e) => !isUnauthenticated(e) && count < 2,
  });
}
