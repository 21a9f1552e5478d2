import { ConfigurableModuleBuilder } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtAuthGuard } from './guards/jwt-auth.guard';
import { RolesGuard } from './guards/roles.guard';
import type { AuthModuleOptions } from './interfaces/auth-module-options.interface';

export interface AuthModuleExtras {
  /**
   * Register the JWT guard and the roles guard as global guards (`APP_GUARD`), so every
   * route needs a bearer token unless marked `@Public()`.
   * @default true
   */
  globalGuard: boolean;
}

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: AUTH_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<AuthModuleOptions>({ moduleName: 'Auth' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createAuthOptions')
  .setExtras<AuthModuleExtras>({ globalGuard: true }, (definition, extras) => ({
    ...definition,
    providers: [
      ...(definition.providers ?? []),
      ...(extras.globalGuard
        ? [
            { provide: APP_GUARD, useExisting: JwtAuthGuard },
            { provide: APP_GUARD, useExisting: RolesGuard },
          ]
        : []),
    ],
  }))
  .build();
