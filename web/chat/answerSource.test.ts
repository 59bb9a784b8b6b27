import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { afterEach, describe, expect, it } from 'vitest';
import { respond } from '../../shared/chat';
import type { ChatClientToServerEvents, ChatServerToClientEvents } from '../../shared/protocol/chat';
import { ChatRefusal, createAnswerSource, type AnswerSourceHandle } from './answerSource';
import { knowledgeBase } from './knowledgeBase';

type Script = (emit: { delta(text: string, reset?: boolean): void; done(): void; drop(): void }, message: string) => Promise<void> | void;

/** A stand-in for the server's /chat namespace, scripted per test (the real one is tested in server/chat). */
async function fakeChatServer(script: Script | 'refuse') {
  const http: HttpServer = createServer();
  const io = new Server<ChatClientToServerEvents, ChatServerToClientEvents>(http);
  io.of('/chat').on('connection', (socket) => {
    socket.on('chat:ask', async (req, ack) => {
      if (script === 'refuse') return ack({ ok: false, error: { code: 'rate_limited', message: "You have reached today's limit of 2 messages." } });
      const askId = 'ask-1';
      ack({ ok: true, data: { askId, conversationId: 'conv-1' } });
      const reply = respond(knowledgeBase(), req.message);
      await script(
        {
          delta: (text, reset) => socket.emit('chat:delta', reset ? { askId, text, reset: true } : { askId, text }),
          done: () => socket.emit('chat:done', { askId, reply, emergency: reply.kind === 'emergency', source: 'llm', conversationId: 'conv-1' }),
          drop: () => socket.disconnect(true),
        },
        req.message,
      );
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    close: () => {
      io.close();
      http.closeAllConnections();
    },
  };
}

describe('the page’s answer source', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => cleanups.splice(0).forEach((f) => f()));
  const source = (url: string): AnswerSourceHandle => {
    const s = createAnswerSource({ url });
    cleanups.push(() => s.close());
    return s;
  };
  const watch = () => {
    const log: string[] = [];
    return { log, opts: { onDelta: (t: string) => log.push(t), onReset: () => log.push('<reset>') } };
  };

  it('hands over the streamed pieces in order, resets when told, and resolves with the server’s reply', async () => {
    const server = await fakeChatServer((e) => {
      e.delta('HDL ');
      e.delta('is ');
      e.delta('', true);
      e.delta('From ');
      e.done();
    });
    cleanups.push(server.close);
    const w = watch();
    const a = await source(server.url).answer('What is HDL cholesterol?', w.opts);
    expect(w.log).toEqual(['HDL ', 'is ', '<reset>', 'From ']);
    expect(a).toMatchObject({ source: 'llm', conversationId: 'conv-1', reply: { kind: 'answer' } });
  });

  it('rejects with the server’s reason when it refuses the question', async () => {
    const server = await fakeChatServer('refuse');
    cleanups.push(server.close);
    const err = await source(server.url).answer('What is HDL?', watch().opts).catch((e) => e);
    expect(err).toBeInstanceOf(ChatRefusal);
    expect(err).toMatchObject({ code: 'rate_limited', message: expect.stringMatching(/today's limit/) });
  });

  it('answers in the browser when the server cannot be reached', async () => {
    const w = watch();
    const a = await source('http://127.0.0.1:1').answer('What is HDL cholesterol?', w.opts);
    expect(a).toEqual({ reply: respond(knowledgeBase(), 'What is HDL cholesterol?'), conversationId: null, source: 'browser' });
  });

  it('starts over in the browser when the connection drops mid-answer', async () => {
    const server = await fakeChatServer((e) => {
      e.delta('HDL ');
      setTimeout(() => e.drop(), 20);
    });
    cleanups.push(server.close);
    const w = watch();
    const a = await source(server.url).answer('What is HDL cholesterol?', w.opts);
    expect(w.log).toEqual(['HDL ', '<reset>']);
    expect(a.source).toBe('browser');
    expect(a.reply.kind).toBe('answer');
  });
});
