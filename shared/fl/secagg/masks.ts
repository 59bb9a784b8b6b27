import { lanes, ringAdd, ringSub, type RingBits } from './ring';

/**
 * The masks of secure aggregation (Bonawitz et al. 2017), over WebCrypto so a browser tab and the
 * Node simulator run the same code: each pair of sites agrees a seed by ECDH (P-256) and HKDF, each
 * site draws a self-mask seed at random, and a seed becomes a mask by AES-256-CTR over zeros (a PRG).
 * Site u adds PRG(b_u), adds PRG(s_uv) for every peer v after it and subtracts it for every peer
 * before it: the pairwise masks cancel in the sum of all, the self-masks are removed by the server
 * once t sites have revealed their shares of them.
 */

export interface AgreementKeys {
  publicKey: CryptoKey;
  privateKey: CryptoKey;
  /** The public key, uncompressed (65 bytes), as advertised. */
  publicRaw: Uint8Array;
  /** The private scalar d (32 bytes): what is Shamir-shared so a dropped site's pairwise masks can be rebuilt. */
  privateScalar: Uint8Array;
}

const EC = { name: 'ECDH', namedCurve: 'P-256' } as const;

export async function generateAgreementKeys(): Promise<AgreementKeys> {
  const pair = (await crypto.subtle.generateKey(EC, true, ['deriveBits'])) as CryptoKeyPair;
  const publicRaw = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
  const jwk = await crypto.subtle.exportKey('jwk', pair.privateKey);
  return { publicKey: pair.publicKey, privateKey: pair.privateKey, publicRaw, privateScalar: fromBase64Url(jwk.d!) };
}

export function importPublicKey(raw: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', bytes(raw), EC, true, []);
}

/** A private key rebuilt from its scalar (reconstructed from shares) and its advertised public key. */
export async function importPrivateScalar(scalar: Uint8Array, publicRaw: Uint8Array): Promise<CryptoKey> {
  if (publicRaw.length !== 65 || publicRaw[0] !== 4) throw new RangeError('an uncompressed P-256 public key is 65 bytes starting 0x04');
  const jwk: JsonWebKey = {
    kty: 'EC',
    crv: 'P-256',
    x: toBase64Url(publicRaw.subarray(1, 33)),
    y: toBase64Url(publicRaw.subarray(33, 65)),
    d: toBase64Url(scalar),
    ext: true,
  };
  return crypto.subtle.importKey('jwk', jwk, EC, true, ['deriveBits']);
}

/** The seed two sites share: ECDH, then HKDF-SHA-256 bound to `context` (study, round, the pair). */
export async function agreedSeed(privateKey: CryptoKey, peerPublic: CryptoKey, context: string): Promise<Uint8Array> {
  const secret = await crypto.subtle.deriveBits({ name: 'ECDH', public: peerPublic }, privateKey, 256);
  const hkdf = await crypto.subtle.importKey('raw', secret, 'HKDF', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(32), info: new TextEncoder().encode(context) }, hkdf, 256);
  return new Uint8Array(bits);
}

/** `words` uniform 32-bit words from a 32-byte seed: AES-256-CTR over zeros. */
export async function expandMask(seed: Uint8Array, words: number): Promise<Uint32Array> {
  if (seed.length !== 32) throw new RangeError('a mask seed is 32 bytes');
  const key = await crypto.subtle.importKey('raw', bytes(seed), 'AES-CTR', false, ['encrypt']);
  const stream = await crypto.subtle.encrypt({ name: 'AES-CTR', counter: new Uint8Array(16), length: 64 }, key, new Uint8Array(4 * words));
  return new Uint32Array(stream);
}

export interface PairSeed {
  /** The peer's position in the round's sorted participant list. */
  peer: number;
  seed: Uint8Array;
}

/**
 * Site `self`'s masked input: its ring-encoded update plus its self mask, plus or minus each pairwise
 * mask (plus when the peer comes after it, minus before), in place on a copy.
 */
export async function maskInput(input: Uint32Array, self: number, selfSeed: Uint8Array, pairs: readonly PairSeed[], bits: RingBits): Promise<Uint32Array> {
  const out = input.slice();
  ringAdd(out, await expandMask(selfSeed, out.length), bits);
  for (const { peer, seed } of pairs) {
    if (peer === self) throw new RangeError('a site has no pairwise mask with itself');
    const mask = await expandMask(seed, out.length);
    if (peer > self) ringAdd(out, mask, bits);
    else ringSub(out, mask, bits);
  }
  return out;
}

/** Words of a ring vector of `values` values. */
export const ringWords = (values: number, bits: RingBits) => values * lanes(bits);

/** WebCrypto takes views of plain ArrayBuffers: copy any other. */
function bytes(b: Uint8Array): Uint8Array<ArrayBuffer> {
  return b.buffer instanceof ArrayBuffer ? (b as Uint8Array<ArrayBuffer>) : new Uint8Array(b);
}

function toBase64Url(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(s: string): Uint8Array {
  const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}
