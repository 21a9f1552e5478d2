import { BadRequestException, Module, ValidationPipe } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { ValidationError } from 'class-validator';
import { AUTH_ENTITIES, AUTH_MIGRATIONS, AuthModule } from 'nest-token-auth';
import { Account } from './accounts/account.entity';
import { AccountsModule } from './accounts/accounts.module';
import { CreateAccounts1733000000000 } from './accounts/migrations/1733000000000-create-accounts';
import { HostExceptionFilter } from './http/host-exception.filter';
import { OrdersController } from './orders/orders.controller';
import { loadSettings } from './settings';

/** The host's validation: strip unknown fields, convert types, answer in the host's own shape. */
export function hostValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    transform: true,
    exceptionFactory: (errors: ValidationError[]) =>
      new BadRequestException({
        statusCode: 400,
        error: 'invalid_order',
        fields: Object.fromEntries(
          errors.map((error) => [error.property, Object.values(error.constraints ?? {})]),
        ),
      }),
  });
}

@Module({
  imports: [
    // The host's one connection: its own accounts and the auth module's tables, by migrations.
    TypeOrmModule.forRootAsync({
      useFactory: () => ({
        type: 'postgres' as const,
        url: loadSettings().databaseUrl,
        entities: [Account, ...AUTH_ENTITIES],
        migrations: [CreateAccounts1733000000000, ...AUTH_MIGRATIONS],
        migrationsRun: true,
        synchronize: false,
      }),
    }),
    AccountsModule,
    AuthModule.forRootAsync({
      imports: [AccountsModule],
      useFactory: () => {
        const settings = loadSettings();
        return {
          issuer: settings.issuer,
          refreshReuseGrace: settings.refreshReuseGrace,
          cookieSecure: settings.cookieSecure,
        };
      },
    }),
  ],
  controllers: [OrdersController],
  providers: [
    { provide: APP_PIPE, useFactory: hostValidationPipe },
    { provide: APP_FILTER, useClass: HostExceptionFilter },
  ],
})
export class AppModule {}
