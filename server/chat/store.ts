import { and, asc, desc, eq } from 'drizzle-orm';
import { randomUUID } from 'node:crypto';
import type { ChatReply } from '../../shared/chat';
import type { ConversationDetail, ConversationSummary, StoredCitation } from '../../shared/protocol/chat';
import type { Db } from '../db/client';
import { chatConversations, chatMessages } from '../db/schema';

/** A signed-in patient's stored chats. Every query is scoped to the patient: another's id is "not found". */

const TITLE_LENGTH = 80;

export function titleOf(message: string): string {
  const flat = message.replace(/\s+/g, ' ').trim();
  return flat.length <= TITLE_LENGTH ? flat : `${flat.slice(0, TITLE_LENGTH - 1).trimEnd()}…`;
}

export function citationsOf(reply: ChatReply): StoredCitation[] {
  return reply.kind === 'answer' ? reply.citations.map((c) => ({ slug: c.slug, title: c.title })) : [];
}

/** The conversation `id` when it is the patient's, else null. */
export async function ownConversation(db: Db, userId: string, id: string): Promise<string | null> {
  const [row] = await db.select({ id: chatConversations.id }).from(chatConversations).where(and(eq(chatConversations.id, id), eq(chatConversations.userId, userId)));
  return row?.id ?? null;
}

/** A new conversation, titled after its first message. */
export async function newConversation(db: Db, userId: string, firstMessage: string, now: Date): Promise<string> {
  const id = randomUUID();
  await db.insert(chatConversations).values({ id, userId, title: titleOf(firstMessage), createdAt: now, updatedAt: now });
  return id;
}

export async function addMessage(db: Db, conversationId: string, role: 'patient' | 'assistant', text: string, citations: StoredCitation[], now: Date): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.insert(chatMessages).values({ conversationId, role, text, citations, createdAt: now });
    await tx.update(chatConversations).set({ updatedAt: now }).where(eq(chatConversations.id, conversationId));
  });
}

const summary = (r: typeof chatConversations.$inferSelect): ConversationSummary => ({
  id: r.id,
  title: r.title,
  createdAt: r.createdAt.toISOString(),
  updatedAt: r.updatedAt.toISOString(),
});

/** Newest first. */
export async function listConversations(db: Db, userId: string, limit = 100): Promise<ConversationSummary[]> {
  const rows = await db.select().from(chatConversations).where(eq(chatConversations.userId, userId)).orderBy(desc(chatConversations.updatedAt), desc(chatConversations.id)).limit(limit);
  return rows.map(summary);
}

export async function getConversation(db: Db, userId: string, id: string): Promise<ConversationDetail | null> {
  const [row] = await db.select().from(chatConversations).where(and(eq(chatConversations.id, id), eq(chatConversations.userId, userId)));
  if (!row) return null;
  const messages = await db.select().from(chatMessages).where(eq(chatMessages.conversationId, id)).orderBy(asc(chatMessages.id));
  return {
    ...summary(row),
    messages: messages.map((m) => ({ id: m.id, role: m.role, text: m.text, citations: m.citations ?? [], createdAt: m.createdAt.toISOString() })),
  };
}

/** Deletes every conversation of the patient (their messages go with them); returns how many. */
export async function deleteHistory(db: Db, userId: string): Promise<number> {
  const rows = await db.delete(chatConversations).where(eq(chatConversations.userId, userId)).returning({ id: chatConversations.id });
  return rows.length;
}
