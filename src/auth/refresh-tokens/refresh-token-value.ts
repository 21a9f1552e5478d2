import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';

/**
 * Refresh-token values.
 *
 * A token names its place in its session's chain: `v1 | session id | generation | secret | tag`,
 * base64url (69 bytes, 92 characters). The 32-byte secret is fresh randomness for every
 * generation; the 16-byte tag is an HMAC under the module's refresh-token key, so that a token
 * of an earlier generation, which the database no longer stores, is still recognised as one
 * the service issued (reuse detection) and a forged one is not. The database keeps only the
 * SHA-256 of the current and the previous token, and the current token encrypted under a key
 * derived from the previous one and the refresh-token key (the grace window's "same
 * successor"): a dump alone yields no usable token, nor does a dump with an old token while the
 * key is kept outside the database.
 *
 * Tokens issued before generations existed (43 characters, 32 random bytes) are still read:
 * they refresh once into the new scheme.
 */

const VERSION = 1;
const SESSION_ID_BYTES = 16;
const GENERATION_BYTES = 4;
const SECRET_BYTES = 32;
const TAG_BYTES = 16;
const SIGNED_BYTES = 1 + SESSION_ID_BYTES + GENERATION_BYTES + SECRET_BYTES;
const TOKEN_BYTES = SIGNED_BYTES + TAG_BYTES;
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{92}$/;
const LEGACY_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
/** The largest generation a chain reaches (the column is a PostgreSQL `integer`). */
export const MAX_GENERATION = 2 ** 31 - 1;

export interface NewRefreshToken {
  value: string;
  hash: Buffer;
}

/** A well-formed, authentic token of the current scheme. */
export interface ParsedRefreshToken {
  sessionId: string;
  generation: number;
  hash: Buffer;
}

/**
 * Issues tokens under the first refresh-token key (at least 32 bytes) and reads tokens issued
 * under any of them, so that a new key can be introduced without ending every session.
 */
export class RefreshTokenCodec {
  private readonly key: Buffer;

  constructor(private readonly keys: readonly Buffer[]) {
    if (keys.length === 0) throw new Error('RefreshTokenCodec needs at least one key');
    this.key = keys[0];
  }

  /** A fresh token for generation `generation` of session `sessionId`. */
  issue(sessionId: string, generation: number): NewRefreshToken {
    const bytes = Buffer.alloc(TOKEN_BYTES);
    bytes[0] = VERSION;
    Buffer.from(sessionId.replace(/-/g, ''), 'hex').copy(bytes, 1);
    bytes.writeUInt32BE(generation, 1 + SESSION_ID_BYTES);
    randomBytes(SECRET_BYTES).copy(bytes, 1 + SESSION_ID_BYTES + GENERATION_BYTES);
    tagOf(this.key, bytes.subarray(0, SIGNED_BYTES)).copy(bytes, SIGNED_BYTES);
    const value = bytes.toString('base64url');
    return { value, hash: hashRefreshToken(value) };
  }

  /** The token's session and generation, or null when it is malformed or not ours. */
  parse(value: string): ParsedRefreshToken | null {
    if (!TOKEN_PATTERN.test(value)) return null;
    const bytes = Buffer.from(value, 'base64url');
    if (bytes.length !== TOKEN_BYTES || bytes[0] !== VERSION) return null;
    const signed = bytes.subarray(0, SIGNED_BYTES);
    const tag = bytes.subarray(SIGNED_BYTES);
    // Every key is tried, whichever matches: the time does not tell which one did.
    let authentic = false;
    for (const key of this.keys) authentic = timingSafeEqual(tagOf(key, signed), tag) || authentic;
    if (!authentic) return null;
    const hex = bytes.subarray(1, 1 + SESSION_ID_BYTES).toString('hex');
    return {
      sessionId: `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`,
      generation: bytes.readUInt32BE(1 + SESSION_ID_BYTES),
      hash: hashRefreshToken(value),
    };
  }

  /**
   * The successor of a token, sealed so that only a holder of that token who also has the
   * refresh-token key can open it: AES-256-GCM under a key derived (HKDF) from the predecessor's
   * value, salted with the refresh-token key. The session row keeps this box so that the
   * predecessor, presented again within the grace window, answers the same successor.
   */
  sealSuccessor(predecessor: string, successor: string): Buffer {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', successorKey(this.key, predecessor), iv);
    const sealed = Buffer.concat([cipher.update(successor, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, sealed, cipher.getAuthTag()]);
  }

  /** Opens a box sealed by `sealSuccessor` with the predecessor; null if it does not open. */
  openSuccessor(predecessor: string, box: Uint8Array): string | null {
    for (const key of this.keys) {
      const opened = openWith(successorKey(key, predecessor), Buffer.from(box));
      if (opened !== null) return opened;
    }
    return null;
  }
}

function tagOf(key: Buffer, signed: Buffer): Buffer {
  return createHmac('sha256', key).update(signed).digest().subarray(0, TAG_BYTES);
}

/** Whether `value` has the shape of a refresh token (of either scheme); says nothing of its origin. */
export function isWellFormedRefreshToken(value: string): boolean {
  return TOKEN_PATTERN.test(value) || LEGACY_TOKEN_PATTERN.test(value);
}

/** Whether `value` has the shape of a token of the scheme before generations. */
export function isLegacyRefreshToken(value: string): boolean {
  return LEGACY_TOKEN_PATTERN.test(value);
}

/** SHA-256: the token has full entropy, so a fast hash is enough and lookups stay indexed. */
export function hashRefreshToken(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Constant-time equality of two token hashes (either may be missing). */
export function sameHash(a: Uint8Array | null, b: Uint8Array | null): boolean {
  return !!a && !!b && a.length === b.length && timingSafeEqual(a, b);
}

function openWith(key: Buffer, bytes: Buffer): string | null {
  if (bytes.length < 12 + 16) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12));
    decipher.setAuthTag(bytes.subarray(bytes.length - 16));
    const opened = Buffer.concat([
      decipher.update(bytes.subarray(12, bytes.length - 16)),
      decipher.final(),
    ]);
    return opened.toString('utf8');
  } catch {
    return null;
  }
}

function successorKey(refreshTokenKey: Buffer, predecessor: string): Buffer {
  return Buffer.from(
    hkdfSync('sha256', predecessor, refreshTokenKey, 'nest-token-auth successor v1', 32),
  );
}
