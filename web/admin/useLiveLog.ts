import { useEffect, useRef, useState } from 'react';
import type { LogLine, LogViewLevel } from '../../shared/protocol/logView';
import { createSocket, emitWithAck } from '../api/socket';
import { MAX_SHOWN_LINES, mergeLines } from './logView';

export interface LiveLogFilter {
  /** A study's log, or null for the whole server's. */
  studyId: string | null;
  minLevel: LogViewLevel;
  /** Only this site's lines; empty for every site. */
  siteId: string;
}

/**
 * The server's log, live: on every (re)connection and every change of filter, the server sends the
 * kept lines that pass the filter, then each new one. Lines that arrive before the kept ones are held
 * and merged in order.
 */
export function useLiveLog(filter: LiveLogFilter) {
  const [lines, setLines] = useState<LogLine[]>([]);
  const [live, setLive] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [keptMs, setKeptMs] = useState<number | null>(null);
  const filterRef = useRef(filter);
  const resubscribe = useRef<(() => void) | null>(null);

  useEffect(() => {
    const socket = createSocket();
    let closed = false;
    let counter = 0;
    let current: { id: string; ready: boolean; early: LogLine[] } | null = null;

    const subscribe = () => {
      if (!socket.connected) return;
      if (current) void emitWithAck(socket, 'admin:log:unsubscribe', { subscription: current.id }).catch(() => undefined);
      const mine = { id: `log-${++counter}`, ready: false, early: [] as LogLine[] };
      current = mine;
      setLines([]);
      setLive(false);
      const f = filterRef.current;
      emitWithAck(socket, 'admin:log:subscribe', { subscription: mine.id, studyId: f.studyId, minLevel: f.minLevel, siteId: f.siteId || undefined, limit: MAX_SHOWN_LINES })
        .then((backlog) => {
          if (closed || current !== mine) return;
          mine.ready = true;
          setLines(mergeLines(backlog.lines, mine.early));
          mine.early = [];
          setKeptMs(backlog.keptMs);
          setLive(true);
          setError(null);
        })
        .catch((e: Error) => {
          if (!closed && current === mine) setError(e.message);
        });
    };
    resubscribe.current = subscribe;
    socket.on('connect', subscribe);
    socket.on('disconnect', () => setLive(false));
    socket.on('connect_error', (e) => setError(e.message));
    socket.on('log:line', ({ subscription, line }) => {
      if (closed || !current || current.id !== subscription) return;
      if (current.ready) setLines((prev) => mergeLines(prev, [line]));
      else current.early.push(line);
    });
    return () => {
      closed = true;
      resubscribe.current = null;
      socket.removeAllListeners();
      socket.disconnect();
    };
  }, []);

  const { studyId, minLevel, siteId } = filter;
  useEffect(() => {
    const f = filterRef.current;
    if (f.studyId === studyId && f.minLevel === minLevel && f.siteId === siteId) return;
    filterRef.current = { studyId, minLevel, siteId };
    resubscribe.current?.();
  }, [studyId, minLevel, siteId]);

  return { lines, live, error, keptMs };
}
