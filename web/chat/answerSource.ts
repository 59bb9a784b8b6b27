import { io, type Socket } from 'socket.io-client';
import { respond, type ChatReply } from '../../shared/chat';
import {
  CHAT_NAMESPACE,
  type AnswerSource,
  type ChatAskAccepted,
  type ChatClientToServerEvents,
  type ChatDelta,
  type ChatDone,
  type ChatServerToClientEvents,
} from '../../shared/protocol/chat';
import type { Ack, ErrorCode } from '../../shared/protocol';
import { knowledgeBase } from './knowledgeBase';

type ChatSocket = Socket<ChatServerToClientEvents, ChatClientToServerEvents>;

export interface AskOptions {
  /** A signed-in patient's stored conversation to continue. */
  conversationId?: string | null;
  /** A piece of the answer, in order. */
  onDelta(text: string): void;
  /** Forget what has streamed: the answer starts over (the model failed, or the connection dropped). */
  onReset(): void;
}

export interface Answer {
  reply: ChatReply;
  /** The stored conversation the question went into; null when nothing is stored. */
  conversationId: string | null;
  /** `browser` when the server could not be reached and the page answered on its own. */
  source: AnswerSource | 'browser';
}

/** The server refused the question (too long, daily limit...); its message says why, for the patient. */
export class ChatRefusal extends Error {
  override name = 'ChatRefusal';
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** How long a first connection may take before the page answers on its own. */
const CONNECT_WAIT_MS = 4_000;
/** An accepted question with no word of its answer for this long is answered in the browser instead. */
const ANSWER_STALL_MS = 45_000;

function inBrowser(message: string): Answer {
  return { reply: respond(knowledgeBase(), message), conversationId: null, source: 'browser' };
}

const isReply = (r: unknown): r is ChatReply =>
  !!r && typeof r === 'object' && typeof (r as ChatReply).text === 'string' && ['emergency', 'dosing', 'answer', 'cant-answer'].includes((r as ChatReply).kind);

/**
 * Where the page gets its answers: streamed from the server over Socket.IO (`/chat`), where they may be
 * written by a language model from the retrieved passages. When the server cannot be reached, the page
 * answers in the browser from the same articles, with the same rules, so it still works.
 */
export function createAnswerSource(opts: { url?: string } = {}) {
  let socket: ChatSocket | undefined;
  /** Whether the latest connection attempt failed: then the browser answers at once, while the socket keeps retrying. */
  let down = false;
  const streams = new Map<string, { delta(d: ChatDelta): void; done(d: ChatDone): void }>();
  /** Events that arrived before their ask's ack was handled. */
  const early = new Map<string, (['delta', ChatDelta] | ['done', ChatDone])[]>();

  function open(): ChatSocket {
    if (socket) return socket;
    // Same origin unless told otherwise (tests point it at their own server).
    const s: ChatSocket = io(`${opts.url ?? ''}${CHAT_NAMESPACE}`, { withCredentials: true, reconnectionDelay: 1_000, reconnectionDelayMax: 10_000, timeout: CONNECT_WAIT_MS });
    s.on('connect', () => (down = false));
    s.on('connect_error', () => (down = true));
    s.on('chat:delta', (d) => {
      const st = streams.get(d.askId);
      if (st) st.delta(d);
      else early.set(d.askId, [...(early.get(d.askId) ?? []), ['delta', d]]);
    });
    s.on('chat:done', (d) => {
      const st = streams.get(d.askId);
      if (st) st.done(d);
      else early.set(d.askId, [...(early.get(d.askId) ?? []), ['done', d]]);
    });
    socket = s;
    return s;
  }

  function connected(s: ChatSocket): Promise<boolean> {
    if (s.connected) return Promise.resolve(true);
    if (down) return Promise.resolve(false);
    return new Promise((resolve) => {
      const finish = (ok: boolean) => {
        clearTimeout(timer);
        s.off('connect', onConnect);
        s.off('connect_error', onError);
        resolve(ok);
      };
      const onConnect = () => finish(true);
      const onError = () => finish(false);
      const timer = setTimeout(() => finish(false), CONNECT_WAIT_MS);
      s.on('connect', onConnect);
      s.on('connect_error', onError);
    });
  }

  async function answer(message: string, opts: AskOptions): Promise<Answer> {
    const s = open();
    if (!(await connected(s))) return inBrowser(message);
    let ack: Ack<ChatAskAccepted>;
    try {
      ack = (await s.timeout(CONNECT_WAIT_MS * 2).emitWithAck('chat:ask', opts.conversationId ? { message, conversationId: opts.conversationId } : { message })) as Ack<ChatAskAccepted>;
    } catch {
      return inBrowser(message);
    }
    if (!ack || typeof ack !== 'object') return inBrowser(message);
    if (!ack.ok) throw new ChatRefusal(ack.error.code, ack.error.message);
    const { askId } = ack.data;

    return new Promise<Answer>((resolve) => {
      let stall: ReturnType<typeof setTimeout>;
      const armStall = () => {
        clearTimeout(stall);
        stall = setTimeout(() => giveUp(), ANSWER_STALL_MS);
      };
      const finish = (a: Answer) => {
        clearTimeout(stall);
        streams.delete(askId);
        s.off('disconnect', giveUp);
        resolve(a);
      };
      // The connection dropped or went quiet mid-answer: answer here, from the start.
      function giveUp() {
        opts.onReset();
        finish(inBrowser(message));
      }
      const handlers = {
        delta(d: ChatDelta) {
          armStall();
          if (d.reset) opts.onReset();
          if (d.text) opts.onDelta(d.text);
        },
        done(d: ChatDone) {
          finish(isReply(d.reply) ? { reply: d.reply, conversationId: d.conversationId ?? null, source: d.source } : inBrowser(message));
        },
      };
      streams.set(askId, handlers);
      s.on('disconnect', giveUp);
      armStall();
      for (const [kind, ev] of early.get(askId) ?? []) kind === 'delta' ? handlers.delta(ev) : handlers.done(ev);
      early.delete(askId);
    });
  }

  return {
    answer,
    /** Closes the connection (the page is left); a later answer opens a new one, with the cookies of then. */
    close() {
      socket?.close();
      socket = undefined;
      down = false;
      streams.clear();
      early.clear();
    },
  };
}

export type AnswerSourceHandle = ReturnType<typeof createAnswerSource>;

/**
 * Answers in the browser only. The risk check uses it for an emergency typed mid-check: what the patient
 * types there is device-only and must never be sent, not even to the chat.
 */
export async function answer(message: string): Promise<ChatReply> {
  return respond(knowledgeBase(), message);
}
