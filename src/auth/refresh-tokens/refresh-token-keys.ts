import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { InjectAuthOptions } from '../decorators/inject-auth-options.decorator';
import type { ResolvedAuthOptions } from '../interfaces/auth-module-options.interface';
import { RefreshTokenCodec } from './refresh-token-value';

const KEY_NAME = 'refresh_token_key';

/**
 * The refresh-token key: the `refreshTokenKey` option when set (kept outside the database, so a
 * dump together with one stolen old token still cannot forge anything), else one generated once
 * and shared by every instance through the `auth_secrets` table. Either way the database never
 * holds a usable token: it keeps only hashes.
 */
@Injectable()
export class RefreshTokenKeys implements OnModuleInit {
  private readonly logger = new Logger('AuthModule');
  private current?: RefreshTokenCodec;

  constructor(
    @InjectAuthOptions() private readonly options: ResolvedAuthOptions,
    private readonly dataSource: DataSource,
  ) {}

  async onModuleInit(): Promise<void> {
    // Loaded in access-token-only mode too: a refresh token presented there is still parsed
    // (and refused), never a 500.
    const configured = this.options.refreshTokenKey;
    const key = configured ? Buffer.from(configured, 'utf8') : await this.storedKey();
    this.current = new RefreshTokenCodec(key);
  }

  get codec(): RefreshTokenCodec {
    if (!this.current) throw new Error('AuthModule: the refresh-token key is not loaded yet.');
    return this.current;
  }

  /** Two instances starting at once both insert; the first wins and both read its key. */
  private async storedKey(): Promise<Buffer> {
    await this.dataSource.query(
      `INSERT INTO auth_secrets (name, value, created_at) VALUES ($1, $2, now())
       ON CONFLICT (name) DO NOTHING`,
      [KEY_NAME, randomBytes(32)],
    );
    const rows: { value: Buffer }[] = await this.dataSource.query(
      'SELECT value FROM auth_secrets WHERE name = $1',
      [KEY_NAME],
    );
    this.logger.debug?.('refresh-token key loaded from the database');
    return Buffer.from(rows[0].value);
  }
}
