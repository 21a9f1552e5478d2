import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthUserStore } from 'nest-token-auth';
import { Account } from './account.entity.js';
import { AccountsUserStore } from './accounts-user-store.js';

/** The host's users; passed to `AuthModule.forRootAsync({ imports })` for the user port. */
@Module({
  imports: [TypeOrmModule.forFeature([Account])],
  providers: [AccountsUserStore, { provide: AuthUserStore, useExisting: AccountsUserStore }],
  exports: [AuthUserStore, AccountsUserStore],
})
export class AccountsModule {}
