import { createHash, timingSafeEqual } from 'node:crypto';

/** SHA-256 of a `device_id`: the session keeps only this, as it keeps only hashes of tokens. */
export function hashDeviceId(deviceId: string): Buffer {
  return createHash('sha256').update(deviceId).digest();
}

/** Whether a refresh presents the device its session is bound to; constant time on the digests. */
export function isBoundDevice(boundHash: Uint8Array, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  const presentedHash = hashDeviceId(presented);
  return presentedHash.length === boundHash.length && timingSafeEqual(presentedHash, boundHash);
}
