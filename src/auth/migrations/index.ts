import { CreateAuthTables1732300000000 } from './1732300000000-create-auth-tables';

/** The auth module's schema migrations; add them to the host's TypeORM `migrations`. */
export const AUTH_MIGRATIONS = [CreateAuthTables1732300000000];
