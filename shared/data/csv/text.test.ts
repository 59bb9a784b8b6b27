import { describe, expect, it } from 'vitest';
import { blobSource, NotTextError, stringSource } from './text';

async function readAll(source: ReturnType<typeof blobSource>): Promise<string> {
  let text = '';
  for await (const c of source.chunks()) text += c.text;
  return text;
}

describe('text sources', () => {
  it('decode multi-byte characters cut in two by a slice boundary, and drop a UTF-8 BOM', async () => {
    const text = 'name,größe\nMüller,1\n日本,2\n';
    const blob = new Blob([new Uint8Array([0xef, 0xbb, 0xbf]), new TextEncoder().encode(text)]);
    for (const chunkBytes of [1, 2, 3, 5, 1024]) expect(await readAll(blobSource(blob, { chunkBytes }))).toBe(text);
  });

  it('read UTF-16 files saved by spreadsheets, and Windows-1252 when asked', async () => {
    const text = 'age;chol\n63;233\n';
    const utf16 = new Uint8Array(2 + text.length * 2);
    utf16.set([0xff, 0xfe]);
    for (let i = 0; i < text.length; i++) utf16[2 + 2 * i] = text.charCodeAt(i);
    expect(await readAll(blobSource(new Blob([utf16]), { chunkBytes: 3 }))).toBe(text);
    const latin = new Blob([new Uint8Array([0x4d, 0xfc, 0x6c, 0x6c, 0x65, 0x72])]);
    expect(await readAll(blobSource(latin, { encoding: 'windows-1252' }))).toBe('Müller');
  });

  it('refuse binary files and report progress in bytes', async () => {
    await expect(readAll(blobSource(new Blob([new Uint8Array([1, 0, 2])])))).rejects.toBeInstanceOf(NotTextError);
    const seen: number[] = [];
    for await (const c of stringSource('\ufeffabcdef', { chunkChars: 4 }).chunks()) seen.push(c.bytesRead);
    expect(seen).toEqual([4, 6]);
  });
});
