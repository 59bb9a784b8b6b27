/**
 * Text sources for the CSV reader: a file (Blob) read in slices, or a string cut into pieces. Both are
 * runtime neutral (Blob, TextDecoder), so the browser worker, Node scripts and tests read alike.
 */
export interface TextChunk {
  text: string;
  /** Bytes (or characters, for a string) consumed so far. */
  bytesRead: number;
}

export interface TextSource {
  /** Size in bytes (characters for a string), for progress. */
  totalBytes: number;
  chunks(): AsyncIterable<TextChunk>;
}

export type CsvEncoding = 'utf-8' | 'windows-1252';

export const DEFAULT_CHUNK_BYTES = 1 << 20;

export class NotTextError extends Error {
  constructor() {
    super('This file is not a text CSV file (it contains binary data). Export the sheet as CSV and try again.');
    this.name = 'NotTextError';
  }
}

/**
 * Reads a Blob slice by slice. One streaming TextDecoder decodes across slice boundaries, so a
 * multi-byte character cut in two by a slice comes out whole, and a UTF-8 byte-order mark is dropped.
 */
export function blobSource(blob: Blob, { chunkBytes = DEFAULT_CHUNK_BYTES, encoding = 'utf-8' as CsvEncoding } = {}): TextSource {
  return {
    totalBytes: blob.size,
    async *chunks() {
      let decoder: TextDecoder | null = null;
      let offset = 0;
      while (offset < blob.size) {
        const end = Math.min(blob.size, offset + chunkBytes);
        const bytes = new Uint8Array(await blob.slice(offset, end).arrayBuffer());
        if (!decoder) {
          // Spreadsheets save "Unicode text" as UTF-16 with a byte-order mark.
          const utf16 = bytes[0] === 0xff && bytes[1] === 0xfe ? 'utf-16le' : bytes[0] === 0xfe && bytes[1] === 0xff ? 'utf-16be' : null;
          if (!utf16 && looksBinary(bytes)) throw new NotTextError();
          decoder = new TextDecoder(utf16 ?? encoding);
        }
        offset = end;
        const text = decoder.decode(bytes, { stream: offset < blob.size });
        yield { text, bytesRead: offset };
      }
    },
  };
}

export function stringSource(text: string, { chunkChars = DEFAULT_CHUNK_BYTES } = {}): TextSource {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  return {
    totalBytes: body.length,
    async *chunks() {
      if (body.includes('\u0000')) throw new NotTextError();
      for (let i = 0; i < body.length; i += chunkChars) {
        yield { text: body.slice(i, i + chunkChars), bytesRead: Math.min(body.length, i + chunkChars) };
      }
    },
  };
}

/** NUL bytes do not occur in text files (UTF-8 or single-byte); spreadsheets, archives and images are full of them. */
function looksBinary(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, 8192);
  for (let i = 0; i < n; i++) if (bytes[i] === 0) return true;
  return false;
}
