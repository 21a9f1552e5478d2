// What the README's "Use it in your Nest app" imports from './accounts'.
export { Account } from './account.entity';
export { AccountsModule } from './accounts.module';
export { AccountsUserStore } from './accounts-user-store';
export { CreateAccounts1733000000000 } from './migrations/1733000000000-create-accounts';
