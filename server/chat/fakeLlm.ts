import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the fake endpoint answers one request. */
export type FakeLlmBehaviour =
  | { kind: 'stream'; chunks: string[]; delayMs?: number; done?: boolean }
  | { kind: 'status'; status: number }
  | { kind: 'stall'; afterChunks?: string[] }
  | { kind: 'raw'; body: string };

export interface FakeLlm {
  /** Up to the version, as LLM_BASE_URL takes it. */
  baseUrl: string;
  /** Every request body received, parsed. */
  requests: { headers: IncomingMessage['headers']; body: { model: string; stream: boolean; messages: { role: string; content: string }[] } }[];
  behave(b: FakeLlmBehaviour): void;
  close(): Promise<void>;
}

const sse = (content: string) => `data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;

/**
 * A tiny OpenAI-compatible chat-completions server for tests: POST /v1/chat/completions streams the
 * configured chunks as SSE (the way Ollama, vLLM and Groq do), or fails the configured way.
 */
export async function startFakeLlm(): Promise<FakeLlm> {
  let behaviour: FakeLlmBehaviour = { kind: 'stream', chunks: ['Hello.'] };
  const requests: FakeLlm['requests'] = [];
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d) => (raw += d));
    req.on('end', async () => {
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
        res.writeHead(404).end();
        return;
      }
      requests.push({ headers: req.headers, body: JSON.parse(raw) });
      const b = behaviour;
      if (b.kind === 'status') {
        res.writeHead(b.status, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error: { message: 'model overloaded' } }));
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
      if (b.kind === 'raw') {
        res.end(b.body);
        return;
      }
      if (b.kind === 'stall') {
        for (const c of b.afterChunks ?? []) res.write(sse(c));
        // Never ends on its own; the client's time-out has to.
        return;
      }
      res.write(': keep-alive comment\n\n');
      for (const c of b.chunks) {
        if (res.destroyed) return;
        // Split each event in two writes, so the client's parser must join lines across reads.
        const ev = sse(c);
        res.write(ev.slice(0, 9));
        res.write(ev.slice(9));
        if (b.delayMs) await new Promise((r) => setTimeout(r, b.delayMs));
      }
      res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`);
      res.end(b.done === false ? '' : 'data: [DONE]\n\n');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    behave: (b) => (behaviour = b),
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
