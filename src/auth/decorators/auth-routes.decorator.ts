import { applyDecorators, UseFilters, UseGuards, UseInterceptors, UsePipes } from '@nestjs/common';
import { AuthValidationPipe } from '../dto/auth-validation.pipe';
import { JwtAuthGuard } from '../guards/jwt-auth.guard';
import { RolesGuard } from '../guards/roles.guard';
import { JsonBodyInterceptor } from '../interceptors/json-body.interceptor';
import { LoginLockedFilter } from '../login-attempts/login-locked.filter';

/** The module validates its own input, whatever pipes the host app installs. */
export const authValidationPipe = new AuthValidationPipe();

/**
 * What every controller of the module applies to itself, so that it works whether or not the
 * host installs the global guard and pipes: bearer and role checks, JSON-only bodies, validation,
 * 429 with `Retry-After` for locked accounts.
 */
export const AuthRoutes = () =>
  applyDecorators(
    UseGuards(JwtAuthGuard, RolesGuard),
    UseInterceptors(JsonBodyInterceptor),
    UsePipes(authValidationPipe),
    UseFilters(LoginLockedFilter),
  );
