/**
 * A minimal Server-Sent Events reader for OpenAI-compatible streaming: it yields each event's `data`
 * (multi-line data joined by "\n"), ignores comments (":" lines), `event:`/`id:`/`retry:` fields and
 * lines that are not fields at all. Chunks may split lines and CRLF pairs anywhere.
 */
export class SseParser {
  private buffer = '';
  private data: string[] = [];
  /** A chunk ended with "\r": its "\n" may start the next chunk and must not count as a second line end. */
  private pendingCr = false;

  /** Feeds decoded text; returns the data of every event it completed. */
  push(chunk: string): string[] {
    if (this.pendingCr && chunk.startsWith('\n')) chunk = chunk.slice(1);
    this.pendingCr = chunk.endsWith('\r');
    this.buffer += chunk;
    const events: string[] = [];
    const lines = this.buffer.split(/\r\n|\r|\n/);
    this.buffer = lines.pop() ?? '';
    for (const line of lines) {
      if (line === '') {
        if (this.data.length) events.push(this.data.join('\n'));
        this.data = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      if (field !== 'data') continue;
      let value = colon === -1 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      this.data.push(value);
    }
    return events;
  }

  /** The end of the stream: an event not followed by a blank line still counts. */
  end(): string[] {
    const rest = this.buffer ? this.push('\n') : [];
    if (this.data.length) rest.push(this.data.join('\n'));
    this.data = [];
    return rest;
  }
}
