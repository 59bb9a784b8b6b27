/**
 * A JWT with its signature changed: the first character of the signature segment replaced, which
 * always changes the decoded bytes. (Changing the last characters may not: a base64url signature's
 * last character carries padding bits, so some edits decode to the same signature and the token stays
 * valid — a test that did that passed or failed by chance.)
 */
export function tamperedSignature(token: string): string {
  const parts = token.split('.');
  const sig = parts[parts.length - 1];
  parts[parts.length - 1] = (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1);
  return parts.join('.');
}
