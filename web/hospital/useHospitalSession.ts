import { useEffect, useState, useSyncExternalStore } from 'react';
import type { BackendName } from '../../shared/protocol';
import type { HospitalState } from './hospitalState';
import { HospitalSession } from './session';

const noopSubscribe = () => () => undefined;
const nullSnapshot = () => null;

/** One session per token for the component's lifetime; it owns the worker and the socket. */
export function useHospitalSession(
  token: string,
  backend?: BackendName,
  memoryBudgetBytes?: number,
  perturbBackend?: BackendName,
): { session: HospitalSession | null; state: HospitalState | null } {
  const [session, setSession] = useState<HospitalSession | null>(null);
  useEffect(() => {
    const s = new HospitalSession(token, backend, memoryBudgetBytes, { perturbBackend });
    setSession(s);
    void s.start();
    return () => {
      s.dispose();
      setSession((current) => (current === s ? null : current));
    };
  }, [token, backend, memoryBudgetBytes, perturbBackend]);
  const state = useSyncExternalStore(session?.subscribe ?? noopSubscribe, session?.getSnapshot ?? nullSnapshot);
  return { session, state };
}
