import { createHash, randomBytes } from 'node:crypto';

/** 32 random bytes (256 bits), base64url: 43 characters. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export interface NewRefreshToken {
  value: string;
  hash: Buffer;
}

export function generateRefreshToken(): NewRefreshToken {
  const value = randomBytes(32).toString('base64url');
  return { value, hash: hashRefreshToken(value) };
}

/** SHA-256: the token has full entropy, so a fast hash is enough and lookups stay indexed. */
export function hashRefreshToken(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

export function isWellFormedRefreshToken(value: string): boolean {
  return TOKEN_PATTERN.test(value);
}
