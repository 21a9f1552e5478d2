import { ConfigurableModuleBuilder, type Provider, type Type } from '@nestjs/common';
import { APP_GUARD, RouterModule } from '@nestjs/core';
import { AdminUsersController } from './admin/admin-users.controller';
import { AUTH_ROUTE_PREFIX } from './auth.constants';
import { AuthController } from './auth.controller';
import { JwtAuthGuard } from './guards/jwt-auth.guard';
import { RolesGuard } from './guards/roles.guard';
import type { AuthModuleOptions } from './interfaces/auth-module-options.interface';
import { MetadataController } from './oauth/metadata.controller';
import { OAuthController } from './oauth/oauth.controller';
import { RegistrationController } from './registration/registration.controller';
import { SessionsController } from './sessions/sessions.controller';

/**
 * The module's route groups. Each is mounted unless set to `false`.
 * @publicApi
 */
export interface AuthRouteGroups {
  /**
   * `POST /auth/login`, `/auth/refresh`, `/auth/logout`, `/auth/logout-all`, `/auth/password`,
   * `GET /auth/me`.
   * @default true
   */
  auth?: boolean;
  /**
   * `POST /auth/register` (public sign-up). A host that creates its users itself turns it off.
   * @default true
   */
  registration?: boolean;
  /**
   * `GET /auth/sessions`, `DELETE /auth/sessions/:id`.
   * @default true
   */
  sessions?: boolean;
  /**
   * `PATCH /admin/users/:id` (role `admin`).
   * @default true
   */
  admin?: boolean;
  /**
   * `POST /oauth/token`, `POST /oauth/revoke`, `GET /.well-known/oauth-authorization-server`
   * and `GET /.well-known/jwks.json`.
   * @default true
   */
  oauth?: boolean;
}

/**
 * Static settings of `AuthModule.forRoot()` / `forRootAsync()`, beside the options: they decide
 * which providers and routes the module declares, so they cannot come from an async factory.
 * @publicApi
 */
export interface AuthModuleExtras {
  /**
   * Register the module's `JwtAuthGuard` and `RolesGuard` as global guards (`APP_GUARD`), so
   * every route of the app needs a valid access token unless marked `@Public()`. With `false`,
   * the host applies them where it wants (`@UseGuards(JwtAuthGuard, RolesGuard)`); the module's
   * own routes guard themselves either way.
   * @default true
   */
  globalGuard: boolean;
  /**
   * Which route groups to mount.
   * @default every group
   */
  routes: AuthRouteGroups;
  /**
   * A path in front of every route of the module (`'api'` serves `POST /api/auth/login`),
   * registered with Nest's `RouterModule`. The refresh cookie's `Path` follows it.
   * @default '' (no prefix)
   */
  routePrefix: string;
}

const ROUTE_GROUPS: Record<keyof AuthRouteGroups, Type[]> = {
  auth: [AuthController],
  registration: [RegistrationController],
  sessions: [SessionsController],
  admin: [AdminUsersController],
  oauth: [OAuthController, MetadataController],
};

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: AUTH_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<AuthModuleOptions>({ moduleName: 'Auth' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createAuthOptions')
  .setExtras<AuthModuleExtras>(
    { globalGuard: true, routes: {}, routePrefix: '' },
    (definition, extras) => {
      const prefix = normalizePrefix(extras.routePrefix);
      const providers: Provider[] = [{ provide: AUTH_ROUTE_PREFIX, useValue: prefix }];
      if (extras.globalGuard) {
        providers.push(
          { provide: APP_GUARD, useExisting: JwtAuthGuard },
          { provide: APP_GUARD, useExisting: RolesGuard },
        );
      }
      const controllers = Object.entries(ROUTE_GROUPS).flatMap(([group, classes]) =>
        extras.routes?.[group as keyof AuthRouteGroups] === false ? [] : classes,
      );
      return {
        ...definition,
        imports: [
          ...(definition.imports ?? []),
          ...(prefix ? [RouterModule.register([{ path: prefix, module: definition.module }])] : []),
        ],
        controllers: [...(definition.controllers ?? []), ...controllers],
        providers: [...(definition.providers ?? []), ...providers],
      };
    },
  )
  .build();

/** `'/api/'` and `'api'` both become `'/api'`; empty stays empty. */
function normalizePrefix(prefix: string | undefined): string {
  const trimmed = (prefix ?? '').replace(/^\/+|\/+$/g, '');
  if (trimmed && !/^[A-Za-z0-9._~\-/]+$/.test(trimmed)) {
    throw new Error(
      `AuthModule: routePrefix '${prefix}' may hold only letters, digits, '-', '.', '_', '~' and '/'.`,
    );
  }
  return trimmed ? `/${trimmed}` : '';
}
