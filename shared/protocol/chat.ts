import { z } from 'zod';
import type { ChatReply } from '../chat/respond';
import type { AckFn } from './events';

/**
 * The patient chat's own Socket.IO namespace, `/chat`. It is open to anonymous patients (the main
 * namespace needs a hospital or admin token); a signed-in patient's session cookie makes their chats
 * stored. One question at a time per socket: `chat:ask` is acked as soon as it is accepted (or refused,
 * with the reason), then the answer streams as `chat:delta` chunks and ends with one `chat:done`.
 */
export const CHAT_NAMESPACE = '/chat';

/** What the transport accepts at all; the chat's own length limit (MAX_MESSAGE_LENGTH) is checked after the emergency check. */
export const CHAT_TRANSPORT_MAX = 20_000;

export const conversationIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'not a conversation id');

export const chatAskSchema = z.object({
  /**
   * A signed-in patient's stored conversation to continue; omitted (or not theirs, or deleted) starts a
   * new one. Ignored for anonymous patients, whose chats are not stored.
   */
  conversationId: conversationIdSchema.optional(),
  message: z.string().max(CHAT_TRANSPORT_MAX, 'message too long').refine((m) => m.trim().length > 0, 'type a question first'),
});
export type ChatAsk = z.infer<typeof chatAskSchema>;

export const chatAskAcceptedSchema = z.object({
  askId: z.string(),
  /** The stored conversation this question went into; null when nothing is stored (anonymous patient). */
  conversationId: z.string().nullable(),
});
export type ChatAskAccepted = z.infer<typeof chatAskAcceptedSchema>;

export const chatDeltaSchema = z.object({
  askId: z.string(),
  text: z.string(),
  /** Drop what has streamed so far: the language model failed mid-answer and the retrieval answer follows. */
  reset: z.literal(true).optional(),
});
export type ChatDelta = z.infer<typeof chatDeltaSchema>;

/** Who wrote the answer: the fixed rules and retrieval, or the configured language model from the retrieved passages. */
export const answerSourceSchema = z.enum(['retrieval', 'llm']);
export type AnswerSource = z.infer<typeof answerSourceSchema>;

/** The end of one answer: the whole reply, as the page renders it (citations, the emergency kind...). */
export interface ChatDone {
  askId: string;
  reply: ChatReply;
  emergency: boolean;
  source: AnswerSource;
  conversationId: string | null;
}

export interface ChatClientToServerEvents {
  'chat:ask': (req: ChatAsk, ack: AckFn<ChatAskAccepted>) => void;
}

export interface ChatServerToClientEvents {
  'chat:delta': (delta: ChatDelta) => void;
  'chat:done': (done: ChatDone) => void;
}

// REST, for a signed-in patient's stored chats (GET /api/chat/conversations, GET .../:id, DELETE /api/chat/history).

export const storedCitationSchema = z.object({ slug: z.string(), title: z.string() });
export type StoredCitation = z.infer<typeof storedCitationSchema>;

export const conversationSummarySchema = z.object({
  id: z.string(),
  title: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type ConversationSummary = z.infer<typeof conversationSummarySchema>;

export const conversationListSchema = z.object({ conversations: z.array(conversationSummarySchema) });
export type ConversationList = z.infer<typeof conversationListSchema>;

export const storedMessageSchema = z.object({
  id: z.number().int(),
  role: z.enum(['patient', 'assistant']),
  text: z.string(),
  citations: z.array(storedCitationSchema),
  createdAt: z.string(),
});
export type StoredMessage = z.infer<typeof storedMessageSchema>;

export const conversationDetailSchema = conversationSummarySchema.extend({ messages: z.array(storedMessageSchema) });
export type ConversationDetail = z.infer<typeof conversationDetailSchema>;

export const historyDeletedSchema = z.object({ deletedConversations: z.number().int() });
export type HistoryDeleted = z.infer<typeof historyDeletedSchema>;
