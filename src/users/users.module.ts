import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthUserStore } from '../auth';
import { TypeOrmUserStore } from './typeorm-user-store';
import { User } from './user.entity';

/** The host's users: binds the auth module's user port to the `users` table. */
@Module({
  imports: [TypeOrmModule.forFeature([User])],
  providers: [{ provide: AuthUserStore, useClass: TypeOrmUserStore }],
  exports: [AuthUserStore],
})
export class UsersModule {}
