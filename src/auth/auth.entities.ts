import { SigningKey } from './keys/signing-key.entity';
import { RefreshToken } from './refresh-tokens/refresh-token.entity';
import { Session } from './sessions/session.entity';

export const AUTH_ENTITIES = [Session, RefreshToken, SigningKey];
