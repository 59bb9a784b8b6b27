import { randomUUID } from 'node:crypto';
import pino, { type Logger } from 'pino';
import type { Namespace, Socket } from 'socket.io';
import { detectEmergency, MAX_MESSAGE_LENGTH, respond, type ChatReply, type KnowledgeBase } from '../../shared/chat';
import { ConsiliumError, ErrorCode } from '../../shared/protocol/errors';
import type { AckFn } from '../../shared/protocol/events';
import {
  CHAT_NAMESPACE,
  chatAskSchema,
  type AnswerSource,
  type ChatAskAccepted,
  type ChatClientToServerEvents,
  type ChatServerToClientEvents,
} from '../../shared/protocol/chat';
import { systemClock, type Clock } from '../clock';
import type { Db } from '../db/client';
import { answerMessage } from './answer';
import { loadKnowledgeBase } from './articleSources';
import { DEFAULT_CHAT_CONFIG, type ChatConfig } from './config';
import { countMessage, dailyLimitMessage, utcDay } from './limits';
import { addMessage, citationsOf, newConversation, ownConversation } from './store';

export type Handshake = Socket['handshake'];

export interface ChatDeps {
  db: Db;
  /** Who is asking: the signed-in patient, or null for anyone else (anonymous, staff, admins). */
  identify(handshake: Handshake): Promise<{ userId: string } | null>;
  config?: ChatConfig;
  kb?: KnowledgeBase;
  clock?: Clock;
  log?: Logger;
  /** The caller's address for the daily limit; the socket's peer address unless given (e.g. from a trusted proxy header). */
  addressOf?(handshake: Handshake): string;
  /**
   * The short-term rate limit (the server's per-minute chat budget, shared with the HTTP chat routes):
   * spends one point for each key; answers how long to wait when one is spent.
   */
  burstLimit?(keys: string[]): Promise<{ ok: true } | { ok: false; retryAfterSeconds: number }>;
  /** Pause between streamed chunks of a retrieval answer (default 25 ms; 0 in tests). */
  streamDelayMs?: number;
}

interface ChatSocketData {
  /** The answer in progress, aborted when the socket goes. */
  inFlight?: AbortController;
}

export type ChatNamespace = Namespace<ChatClientToServerEvents, ChatServerToClientEvents, Record<string, never>, ChatSocketData>;
type ChatSocket = Socket<ChatClientToServerEvents, ChatServerToClientEvents, Record<string, never>, ChatSocketData>;

/** Stored for an over-long emergency message: it is answered whole, but kept only this long. */
const STORED_MESSAGE_MAX = 2_000;

/**
 * What is logged of a failure: its kind and database code, never its message. A failed query's message
 * carries its parameters, which here are a patient's words.
 */
function loggable(err: unknown): { name: string; code?: string } {
  const e = err as { name?: unknown; code?: unknown; cause?: { code?: unknown } } | null;
  const code = e?.cause?.code ?? e?.code;
  return { name: typeof e?.name === 'string' ? e.name : typeof err, ...(typeof code === 'string' ? { code } : {}) };
}

const refuse = (code: ErrorCode, message: string, status = 400) => new ConsiliumError(code, message, status);

/**
 * The patient chat's Socket.IO namespace, open to anonymous patients. Each `chat:ask` is checked (zod,
 * the length limit after the emergency check, one question at a time, the daily limit per patient or
 * per address), acked with its askId, then answered as `chat:delta` chunks and one `chat:done`.
 * Emergencies skip every limit and are answered at once. A signed-in patient's questions and answers
 * are stored; nothing is stored for anyone else.
 */
export function attachChat(io: { of(name: string): unknown }, deps: ChatDeps): ChatNamespace {
  const nsp = io.of(CHAT_NAMESPACE) as ChatNamespace;
  const log = deps.log ?? pino({ level: 'silent' });
  const clock = deps.clock ?? systemClock;
  const config = deps.config ?? DEFAULT_CHAT_CONFIG;
  const kb = deps.kb ?? loadKnowledgeBase();
  const answerDeps = { kb, llm: config.llm, streamDelayMs: deps.streamDelayMs ?? 25, log };
  const addressOf = deps.addressOf ?? ((h: Handshake) => h.address);

  nsp.on('connection', (socket: ChatSocket) => {
    socket.on('disconnect', () => socket.data.inFlight?.abort());

    socket.on('chat:ask', async (raw: unknown, ack: AckFn<ChatAskAccepted>) => {
      if (typeof ack !== 'function') return;
      let claimed: AbortController | undefined;
      let accepted: { askId: string; conversationId: string | null; userId: string | null; message: string; emergency: boolean } | undefined;
      try {
        const parsed = chatAskSchema.safeParse(raw);
        if (!parsed.success) throw refuse(ErrorCode.BadRequest, parsed.error.issues.map((i) => `${i.path.join('.') || 'request'}: ${i.message}`).join('; '));
        const message = parsed.data.message.trim();
        if (socket.data.inFlight) throw refuse(ErrorCode.Conflict, 'Please wait for the answer to your last question.', 409);
        socket.data.inFlight = claimed = new AbortController();
        // The emergency check reads the whole message and comes before every limit.
        const emergency = detectEmergency(message) !== null;
        if (!emergency && message.length > MAX_MESSAGE_LENGTH)
          throw refuse(ErrorCode.PayloadTooLarge, `Your message is ${message.length} characters long; the limit is ${MAX_MESSAGE_LENGTH}. Please shorten it.`, 413);
        const patient = await deps.identify(socket.handshake).catch((err) => {
          log.warn({ failure: loggable(err) }, 'chat: could not identify the caller; answering as anonymous');
          return null;
        });
        const now = clock.now();
        if (!emergency) {
          const address = `address:${addressOf(socket.handshake)}`;
          const burst = await deps.burstLimit?.(patient ? [`account:${patient.userId}`, address] : [address]);
          if (burst && !burst.ok)
            throw refuse(ErrorCode.RateLimited, `Too many questions in a short time: please wait ${burst.retryAfterSeconds} s and ask again.`, 429);
          const key = patient ? `patient:${patient.userId}` : address;
          const count = await countMessage(deps.db, key, utcDay(now));
          if (count > config.dailyLimit) throw refuse(ErrorCode.RateLimited, dailyLimitMessage(config.dailyLimit, now), 429);
        }
        let conversationId: string | null = null;
        if (patient) {
          // A conversation that is not (or no longer) theirs, deleted in another tab say, is never appended
          // to: the question starts a new one.
          const own = parsed.data.conversationId ? await ownConversation(deps.db, patient.userId, parsed.data.conversationId) : null;
          conversationId = own ?? (await newConversation(deps.db, patient.userId, message, new Date(now)));
          await addMessage(deps.db, conversationId, 'patient', message.slice(0, STORED_MESSAGE_MAX), [], new Date(now));
        }
        accepted = { askId: randomUUID(), conversationId, userId: patient?.userId ?? null, message, emergency };
        ack({ ok: true, data: { askId: accepted.askId, conversationId } });
      } catch (err) {
        if (claimed && socket.data.inFlight === claimed) socket.data.inFlight = undefined;
        if (err instanceof ConsiliumError) ack({ ok: false, error: err.toJSON() });
        else {
          log.error({ failure: loggable(err) }, 'chat: could not accept a question');
          ack({ ok: false, error: { code: ErrorCode.Internal, message: 'The chat could not take your question just now. Please try again.' } });
        }
        return;
      }

      const { askId, conversationId, userId, message } = accepted;
      const ctrl = socket.data.inFlight!;
      let reply: ChatReply;
      let source: AnswerSource = 'retrieval';
      try {
        ({ reply, source } = await answerMessage(answerDeps, message, {
          signal: ctrl.signal,
          delta: (text, reset) => socket.emit('chat:delta', reset ? { askId, text, reset: true } : { askId, text }),
        }));
      } catch (err) {
        log.error({ failure: loggable(err) }, 'chat: answering failed; retrieval answer sent whole');
        reply = respond(kb, message);
      } finally {
        socket.data.inFlight = undefined;
      }
      // Stored before the tab hears it is done: a patient who reloads at once finds the whole exchange.
      if (conversationId && userId) {
        await addMessage(deps.db, conversationId, 'assistant', reply.text, citationsOf(reply), new Date(clock.now())).catch((err) =>
          log.error({ failure: loggable(err) }, 'chat: could not store an answer'),
        );
      }
      if (!ctrl.signal.aborted) socket.emit('chat:done', { askId, reply, emergency: reply.kind === 'emergency', source, conversationId });
    });
  });
  return nsp;
}
