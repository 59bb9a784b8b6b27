import { Hono, type Context } from 'hono';
import { ConsiliumError, ErrorCode } from '../../shared/protocol/errors';
import {
  conversationDetailSchema,
  conversationIdSchema,
  conversationListSchema,
  historyDeletedSchema,
  type ConversationDetail,
  type ConversationList,
  type HistoryDeleted,
} from '../../shared/protocol/chat';
import type { Db } from '../db/client';
import { pathParam } from '../http/params';
import type { AppEnv } from '../http/principal';
import { doc } from '../openapi/describe';
import { deleteHistory, getConversation, listConversations } from './store';

/**
 * The signed-in patient behind a request. Written against the principal's shape
 * `{ kind: 'patient', userId }` so it holds whichever other kinds the principal union has.
 */
export function patientOf(principal: unknown): { userId: string } | null {
  const p = principal as { kind?: unknown; userId?: unknown } | null | undefined;
  return p?.kind === 'patient' && typeof p.userId === 'string' ? { userId: p.userId } : null;
}

function requirePatient(c: Context<AppEnv>): { userId: string } {
  const principal = c.get('principal');
  if (!principal) throw new ConsiliumError(ErrorCode.Unauthenticated, 'sign in with a patient account to see stored chats', 401);
  const patient = patientOf(principal);
  if (!patient) throw new ConsiliumError(ErrorCode.Forbidden, 'stored chats belong to patient accounts', 403);
  return patient;
}

/** A signed-in patient's stored chats: `/api/chat/conversations`, `/api/chat/conversations/:id`, `DELETE /api/chat/history`. */
export function chatRoutes(deps: { db: Db }) {
  const { db } = deps;
  const tag = 'Patients';
  return new Hono<AppEnv>()
    .get('/conversations', doc({ tag, summary: "The signed-in patient's stored chats", access: 'patient', response: conversationListSchema, errors: { 429: 'Too many chat requests.' } }), async (c) => {
      const { userId } = requirePatient(c);
      return c.json<ConversationList>({ conversations: await listConversations(db, userId) });
    })
    .get('/conversations/:id', doc({ tag, summary: 'One stored chat with its messages', access: 'patient', params: { id: conversationIdSchema }, response: conversationDetailSchema, errors: { 429: 'Too many chat requests.' } }), async (c) => {
      const { userId } = requirePatient(c);
      const conversation = await getConversation(db, userId, pathParam(c, 'id', conversationIdSchema));
      if (!conversation) throw new ConsiliumError(ErrorCode.NotFound, 'no such conversation', 404);
      return c.json<ConversationDetail>(conversation);
    })
    .delete('/history', doc({ tag, summary: "Delete the signed-in patient's stored chats", access: 'patient', response: historyDeletedSchema, errors: { 429: 'Too many chat requests.' } }), async (c) => {
      const { userId } = requirePatient(c);
      return c.json<HistoryDeleted>({ deletedConversations: await deleteHistory(db, userId) });
    });
}
