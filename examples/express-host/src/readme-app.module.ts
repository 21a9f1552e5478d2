// The README's "Use it in your Nest app" block, verbatim: test/docs.spec.ts checks that the README
// shows exactly this file, and the example's tsc compiles it against the packed library.
import { Controller, Get, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AUTH_ENTITIES, AUTH_MIGRATIONS, AuthModule, CurrentUser } from 'nest-token-auth';
import type { AuthPrincipal } from 'nest-token-auth';
import { Account, AccountsModule, CreateAccounts1733000000000 } from './accounts'; // see below

@Controller('orders')
class OrdersController {
  @Get() mine(@CurrentUser() user: AuthPrincipal) { return { userId: user.id, roles: user.roles }; }
}

@Module({
  imports: [
    TypeOrmModule.forRoot({ type: 'postgres', url: process.env.DATABASE_URL, migrationsRun: true,
      entities: [Account, ...AUTH_ENTITIES], migrations: [CreateAccounts1733000000000, ...AUTH_MIGRATIONS] }),
    AuthModule.forRootAsync({ imports: [AccountsModule], useFactory: () => ({ issuer: 'https://api.example.com' }) }),
  ],
  controllers: [OrdersController],
})
export class AppModule {}
