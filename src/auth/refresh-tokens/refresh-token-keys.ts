import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { InjectAuthOptions } from '../decorators/inject-auth-options.decorator';
import type { ResolvedAuthOptions } from '../interfaces/auth-module-options.interface';
import { RefreshTokenCodec } from './refresh-token-value';

const KEY_NAME = 'refresh_token_key';

/**
 * The refresh-token keys. With the `refreshTokenKey` option, its key (the first, when a list)
 * issues tokens and every key of it verifies them, as does a key the module had generated
 * earlier (so that setting the option ends no session). Without it, a key is generated once and
 * shared by every instance through the `auth_secrets` table. Either way the database never
 * holds a usable token: it keeps only hashes, and a successor sealed under a token it lacks.
 */
@Injectable()
export class RefreshTokenKeys implements OnModuleInit {
  private readonly logger = new Logger('AuthModule');
  private current?: RefreshTokenCodec;

  constructor(
    @InjectAuthOptions() private readonly options: ResolvedAuthOptions,
    private readonly dataSource: DataSource,
  ) {}

  // Loaded in access-token-only mode too: a refresh token presented there is still parsed (and
  // refused), never a 500.
  async onModuleInit(): Promise<void> {
    const option = this.options.refreshTokenKey;
    const configured = (Array.isArray(option) ? option : option ? [option] : []).map((key) =>
      Buffer.from(key, 'utf8'),
    );
    if (configured.length > 0) {
      const generated = await this.storedKey();
      this.current = new RefreshTokenCodec(generated ? [...configured, generated] : configured);
      return;
    }
    this.logger.log(
      'refresh-token key: generated and kept in the database; set the `refreshTokenKey` option to keep it outside',
    );
    this.current = new RefreshTokenCodec([await this.generatedKey()]);
  }

  get codec(): RefreshTokenCodec {
    if (!this.current) throw new Error('AuthModule: the refresh-token key is not loaded yet.');
    return this.current;
  }

  /** Two instances starting at once both insert; the first wins and both read its key. */
  private async generatedKey(): Promise<Buffer> {
    await this.dataSource.query(
      `INSERT INTO auth_secrets (name, value, created_at) VALUES ($1, $2, now())
       ON CONFLICT (name) DO NOTHING`,
      [KEY_NAME, randomBytes(32)],
    );
    return (await this.storedKey())!;
  }

  private async storedKey(): Promise<Buffer | undefined> {
    const rows: { value: Buffer }[] = await this.dataSource.query(
      'SELECT value FROM auth_secrets WHERE name = $1',
      [KEY_NAME],
    );
    return rows.length ? Buffer.from(rows[0].value) : undefined;
  }
}
