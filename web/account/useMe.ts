import { useQuery } from '@tanstack/react-query';
import { getMe } from '../api/endpoints';
import { isUnauthenticated } from '../api/http';

/** Who is signed in (by cookie), or null when nobody is. */
export function useMe() {
  return useQuery({
    queryKey: ['me'],
    queryFn: () => getMe().catch((e: unknown) => (isUnauthenticated(e) ? null : Promise.reject(e))),
    retry: (count, e) => !isUnauthenticated(e) && count < 2,
  });
}
