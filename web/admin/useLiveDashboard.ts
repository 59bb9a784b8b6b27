import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import type { Dashboard } from '../../shared/protocol';
import { getDashboard } from '../api/endpoints';
import { createSocket, emitWithAck } from '../api/socket';

/**
 * The study's dashboard: fetched once over REST, then kept current by the server's `dashboard`
 * pushes after `admin:watch` (sent again after every reconnect).
 */
export function useLiveDashboard(studyId: string) {
  const queryClient = useQueryClient();
  const queryKey = ['dashboard', studyId];
  const query = useQuery({ queryKey, queryFn: () => getDashboard(studyId), staleTime: Infinity });
  const [live, setLive] = useState(false);
  const [watchError, setWatchError] = useState<string | null>(null);

  useEffect(() => {
    const socket = createSocket();
    const key = ['dashboard', studyId];
    const apply = (d: Dashboard) => {
      if (d.study.id === studyId) queryClient.setQueryData(key, d);
    };
    socket.on('connect', () => {
      emitWithAck(socket, 'admin:watch', { studyId })
        .then((d) => {
          apply(d);
          setLive(true);
          setWatchError(null);
        })
        .catch((e: Error) => setWatchError(e.message));
    });
    socket.on('disconnect', () => setLive(false));
    socket.on('connect_error', (e) => setWatchError(e.message));
    socket.on('dashboard', apply);
    return () => {
      socket.removeAllListeners();
      socket.disconnect();
      setLive(false);
    };
  }, [studyId, queryClient]);

  return { ...query, live, watchError };
}
