import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { KEYS_CHANNEL } from '../auth.constants';
import { type AsymmetricAlgorithm, asymmetricKey, generatePrivateKey } from './key-material';

/** A stored key that has not been retired. */
export interface StoredKey {
  kid: string;
  alg: AsymmetricAlgorithm;
  privateKey: string;
  activatesAt: Date;
}

// Serialises key creation across instances (and the key commands) that run at the same moment.
const KEY_LOCK = 0x6e74_6b31; // "ntk1"

/**
 * Generated signing keys. Changes are announced with `pg_notify` on the keys channel so that
 * every instance reloads at once (and at the latest at its next periodic reload).
 */
@Injectable()
export class SigningKeyRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Keys of `alg` that are not retired, newest activation first; creates the first one. */
  findOrCreateUsable(alg: AsymmetricAlgorithm): Promise<StoredKey[]> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock($1)', [KEY_LOCK]);
      const usable = await findUsable(manager, alg);
      if (usable.length > 0) return usable;
      await insertKey(manager, alg, new Date());
      return findUsable(manager, alg);
    });
  }

  findUsable(alg: AsymmetricAlgorithm): Promise<StoredKey[]> {
    return findUsable(this.dataSource.manager, alg);
  }

  /**
   * Adds a new key that starts signing at `activatesAt`. Instances learn it (and publish it in
   * the JWKS) before then, so tokens it signs verify everywhere from the first one.
   */
  rotate(alg: AsymmetricAlgorithm, activatesAt: Date): Promise<string> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock($1)', [KEY_LOCK]);
      const kid = await insertKey(manager, alg, activatesAt);
      await manager.query(`SELECT pg_notify('${KEYS_CHANNEL}', $1)`, [kid]);
      return kid;
    });
  }

  /** Retires keys: they neither sign nor verify, and leave the JWKS. */
  async retire(kids: string[], now: Date): Promise<number> {
    if (kids.length === 0) return 0;
    const rows: unknown[] = await this.dataSource.query(
      `WITH retired AS (
         UPDATE auth_signing_keys SET retired_at = $2
         WHERE kid = ANY($1) AND retired_at IS NULL RETURNING kid
       )
       SELECT kid, pg_notify('${KEYS_CHANNEL}', kid) FROM retired`,
      [kids, now],
    );
    return rows.length;
  }
}

async function findUsable(manager: EntityManager, alg: AsymmetricAlgorithm): Promise<StoredKey[]> {
  const rows: { kid: string; private_key: string; activates_at: Date }[] = await manager.query(
    `SELECT kid, private_key, activates_at FROM auth_signing_keys
     WHERE alg = $1 AND retired_at IS NULL ORDER BY activates_at DESC, created_at DESC`,
    [alg],
  );
  return rows.map((row) => ({
    kid: row.kid,
    alg,
    privateKey: row.private_key,
    activatesAt: new Date(row.activates_at),
  }));
}

async function insertKey(manager: EntityManager, alg: AsymmetricAlgorithm, activatesAt: Date) {
  const key = asymmetricKey(alg, generatePrivateKey(alg));
  const pem = key.signingKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  await manager.query(
    `INSERT INTO auth_signing_keys (kid, alg, private_key, activates_at) VALUES ($1, $2, $3, $4)`,
    [key.kid, alg, pem, activatesAt],
  );
  return key.kid;
}
