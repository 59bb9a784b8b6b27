import { useCallback, useEffect, useState } from 'react';
import { z } from 'zod';
import { conversationDetailSchema, conversationListSchema, historyDeletedSchema, type ConversationDetail, type ConversationSummary } from '../../shared/protocol/chat';
import { apiFetch, maybeSignedIn } from '../api/http';

/** Only the role matters here; the rest of `/api/auth/me` is other pages' business. */
const roleOnly = z.object({ role: z.string() });

/**
 * A signed-in patient's stored chats (GET /api/chat/conversations...). For anyone else (anonymous, or
 * signed in as staff or an admin) `signedIn` stays false and nothing is fetched: their conversation
 * lives in the tab only.
 */
export function usePatientHistory() {
  const [signedIn, setSignedIn] = useState(false);
  const [conversations, setConversations] = useState<ConversationSummary[]>([]);
  const [error, setError] = useState<string | null>(null);

  const refresh = useCallback(async () => {
    try {
      setConversations(conversationListSchema.parse(await apiFetch('/api/chat/conversations')).conversations);
      setError(null);
    } catch (e) {
      setError(`Your saved conversations could not be loaded: ${(e as Error).message}`);
    }
  }, []);

  useEffect(() => {
    let live = true;
    // Without a session cookie nobody is signed in: no request, and no 401 in the console.
    if (!maybeSignedIn()) return;
    apiFetch('/api/auth/me')
      .then((me) => {
        const who = roleOnly.safeParse(me);
        if (live && who.success && who.data.role === 'patient') {
          setSignedIn(true);
          void refresh();
        }
      })
      // Not signed in (401) or the server is unreachable: the anonymous chat.
      .catch(() => {});
    return () => {
      live = false;
    };
  }, [refresh]);

  const open = useCallback(async (id: string): Promise<ConversationDetail> => conversationDetailSchema.parse(await apiFetch(`/api/chat/conversations/${encodeURIComponent(id)}`)), []);

  const deleteAll = useCallback(async () => {
    historyDeletedSchema.parse(await apiFetch('/api/chat/history', { method: 'DELETE' }));
    setConversations([]);
  }, []);

  return { signedIn, conversations, error, refresh, open, deleteAll };
}
