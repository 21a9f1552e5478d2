import { SigningKey } from './keys/signing-key.entity';
import { AuthSecret } from './refresh-tokens/auth-secret.entity';
import { RefreshToken } from './refresh-tokens/refresh-token.entity';
import { Session } from './sessions/session.entity';
import { UserState } from './users/user-state.entity';

/**
 * The module's TypeORM entities (sessions, tokens of earlier releases, signing keys, the
 * module's record of users, its own secrets): add them to the host
 * connection's `entities` (or use `autoLoadEntities`), beside `AUTH_MIGRATIONS`.
 */
export const AUTH_ENTITIES = [Session, RefreshToken, SigningKey, UserState, AuthSecret];
