import { useQuery } from '@tanstack/react-query';
import { listSites } from '../api/endpoints';
import { AdminHead } from './AdminTabs';
import { LogView } from './LogView';

/** The whole server's log, live, for platform admins: every study's lines and the lines of none. */
export function ServerLogPage() {
  const sites = useQuery({ queryKey: ['sites'], queryFn: listSites });
  return (
    <div className="admin">
      <AdminHead title="Server log" />
      <LogView studyId={null} sites={sites.data ?? []} title="Whole server" />
    </div>
  );
}
