import { CreateAuthTables1732300000000 } from './1732300000000-create-auth-tables';
import { AddSessionLifetimeIndexes1732400000000 } from './1732400000000-add-session-lifetime-indexes';
import { AddKeyActivation1732500000000 } from './1732500000000-add-key-activation';
import { AddSessionDeviceBinding1732600000000 } from './1732600000000-add-session-device-binding';
import { AddRefreshTokenGenerations1732700000000 } from './1732700000000-add-refresh-token-generations';

/** The auth module's schema migrations; add them to the host's TypeORM `migrations`. */
export const AUTH_MIGRATIONS = [
  CreateAuthTables1732300000000,
  AddSessionLifetimeIndexes1732400000000,
  AddKeyActivation1732500000000,
  AddSessionDeviceBinding1732600000000,
  AddRefreshTokenGenerations1732700000000,
];
