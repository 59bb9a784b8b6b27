import { transferHandlers } from 'comlink';

/**
 * Comlink's default error serialisation keeps only message, name and stack; the page needs the
 * server's error code and HTTP status too (a 4xx upload rejection is final, a network one is not).
 * Only the worker side needs this: Comlink's deserialiser copies every field back onto an Error.
 */
export function keepErrorCodes(): void {
  const original = transferHandlers.get('throw');
  if (!original) return;
  transferHandlers.set('throw', {
    canHandle: original.canHandle,
    serialize(thrown: unknown) {
      const [serialized, transferables] = original.serialize(thrown) as [
        { isError: boolean; value: Record<string, unknown> },
        Transferable[],
      ];
      const value = (thrown as { value?: unknown }).value;
      if (serialized.isError && value && typeof value === 'object') {
        const { code, status } = value as { code?: unknown; status?: unknown };
        if (typeof code === 'string') serialized.value.code = code;
        if (typeof status === 'number') serialized.value.status = status;
      }
      return [serialized, transferables];
    },
    deserialize: original.deserialize,
  });
}
