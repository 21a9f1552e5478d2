import { CreateAuthTables1732300000000 } from './1732300000000-create-auth-tables';
import { AddSessionLifetimeIndexes1732400000000 } from './1732400000000-add-session-lifetime-indexes';
import { AddKeyActivation1732500000000 } from './1732500000000-add-key-activation';

/** The auth module's schema migrations; add them to the host's TypeORM `migrations`. */
export const AUTH_MIGRATIONS = [
  CreateAuthTables1732300000000,
  AddSessionLifetimeIndexes1732400000000,
  AddKeyActivation1732500000000,
];
