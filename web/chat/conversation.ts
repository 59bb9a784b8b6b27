import { useCallback, useEffect, useState } from 'react';
import { z } from 'zod';
import type { ChatReply } from '../../shared/chat';
import type { StoredCitation } from '../../shared/protocol/chat';
import type { RiskStep } from './risk/steps';

/**
 * `deviceOnly` marks what the risk check asked and was told: the patient's own values. Such entries
 * stay in this browser; anything that ever stores or sends a conversation (a patient account's
 * history, say) must leave them out.
 */
export type ChatEntry =
  | { id: string; role: 'user'; text: string; at: number; deviceOnly?: true }
  | { id: string; role: 'assistant'; reply: ChatReply; at: number }
  /** An answer reopened from a signed-in patient's stored chats: its text and the articles it cited. */
  | { id: string; role: 'saved'; text: string; citations: StoredCitation[]; at: number }
  /** The server refused a question (too long, daily limit): the reason, for the patient. */
  | { id: string; role: 'notice'; text: string; at: number }
  | { id: string; role: 'risk'; step: RiskStep; at: number; deviceOnly: true };

/** An entry before it is given an id and a time; distributes over the union so each role keeps its fields. */
export type NewChatEntry = ChatEntry extends infer E ? (E extends ChatEntry ? Omit<E, 'id' | 'at'> : never) : never;

const STORAGE_KEY = 'consilium.chat.v1';
/** A signed-in patient's stored conversation that this tab continues. */
const CONVERSATION_KEY = 'consilium.chat.conversation.v1';
/** Enough history to scroll back through; older turns drop off. */
const MAX_ENTRIES = 200;

// Stored entries are checked on load: storage written by an older version, or edited by hand, must not
// break the page. Replies are this page's own output, so only their shape's discriminant is checked.
const entrySchema = z.discriminatedUnion('role', [
  z.object({ id: z.string(), role: z.literal('user'), text: z.string(), at: z.number(), deviceOnly: z.literal(true).optional() }),
  z.object({ id: z.string(), role: z.literal('assistant'), reply: z.object({ kind: z.string(), text: z.string() }).passthrough(), at: z.number() }),
  z.object({ id: z.string(), role: z.literal('saved'), text: z.string(), citations: z.array(z.object({ slug: z.string(), title: z.string() })), at: z.number() }),
  z.object({ id: z.string(), role: z.literal('notice'), text: z.string(), at: z.number() }),
  z.object({ id: z.string(), role: z.literal('risk'), step: z.object({ kind: z.string() }).passthrough(), at: z.number(), deviceOnly: z.literal(true) }),
]);

function load(): ChatEntry[] {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    if (!raw) return [];
    const parsed: unknown = JSON.parse(raw);
    if (!Array.isArray(parsed)) return [];
    // Entry by entry: one an older version wrote in another shape drops out, the rest stay.
    return parsed.flatMap((e) => {
      const r = entrySchema.safeParse(e);
      return r.success ? [r.data as ChatEntry] : [];
    });
  } catch {
    return [];
  }
}

function loadConversationId(): string | null {
  try {
    return sessionStorage.getItem(CONVERSATION_KEY);
  } catch {
    return null;
  }
}

function newId(): string {
  return typeof crypto !== 'undefined' && 'randomUUID' in crypto ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
}

/**
 * The conversation on screen: kept in this tab's sessionStorage, so it survives a reload or a visit to
 * an article, and is gone when the tab closes. For a signed-in patient it is also stored on the server
 * (by the chat itself, as it answers), under `conversationId`.
 */
export function useConversation() {
  const [entries, setEntries] = useState<ChatEntry[]>(load);
  const [conversationId, setConversationId] = useState<string | null>(loadConversationId);

  useEffect(() => {
    try {
      if (conversationId) sessionStorage.setItem(CONVERSATION_KEY, conversationId);
      else sessionStorage.removeItem(CONVERSATION_KEY);
    } catch {
      // as below
    }
  }, [conversationId]);

  useEffect(() => {
    try {
      if (entries.length) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(entries.slice(-MAX_ENTRIES)));
      else sessionStorage.removeItem(STORAGE_KEY);
    } catch {
      // Storage full or disabled: the conversation still works, it just will not survive a reload.
    }
  }, [entries]);

  /** Appends an entry; returns its id. */
  const add = useCallback((entry: NewChatEntry): string => {
    const id = newId();
    setEntries((es) => [...es, { ...entry, id, at: Date.now() } as ChatEntry].slice(-MAX_ENTRIES));
    return id;
  }, []);
  const clear = useCallback(() => {
    setEntries([]);
    setConversationId(null);
  }, []);
  /** Shows another conversation (a stored one reopened). */
  const replace = useCallback((next: NewChatEntry[], id: string | null) => {
    const at = Date.now();
    setEntries(next.map((e) => ({ ...e, id: newId(), at }) as ChatEntry).slice(-MAX_ENTRIES));
    setConversationId(id);
  }, []);

  return { entries, add, clear, replace, conversationId, setConversationId };
}
