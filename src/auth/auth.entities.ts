import { SigningKey } from './keys/signing-key.entity';
import { RefreshToken } from './refresh-tokens/refresh-token.entity';
import { Session } from './sessions/session.entity';

/**
 * The module's TypeORM entities (sessions, refresh tokens, signing keys): add them to the host
 * connection's `entities` (or use `autoLoadEntities`), beside `AUTH_MIGRATIONS`.
 */
export const AUTH_ENTITIES = [Session, RefreshToken, SigningKey];
