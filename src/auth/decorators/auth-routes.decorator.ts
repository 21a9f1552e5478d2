import {
  applyDecorators,
  UseGuards,
  UseInterceptors,
  UsePipes,
  ValidationPipe,
} from '@nestjs/common';
import { JwtAuthGuard } from '../guards/jwt-auth.guard';
import { RolesGuard } from '../guards/roles.guard';
import { JsonBodyInterceptor } from '../interceptors/json-body.interceptor';

/** The module validates its own input, whatever pipes the host app installs. */
export const authValidationPipe = new ValidationPipe({
  whitelist: true,
  forbidNonWhitelisted: true,
  transform: true,
});

/**
 * What every controller of the module applies to itself, so that it works whether or not the
 * host installs the global guard and pipes: bearer and role checks, JSON-only bodies, validation.
 */
export const AuthRoutes = () =>
  applyDecorators(
    UseGuards(JwtAuthGuard, RolesGuard),
    UseInterceptors(JsonBodyInterceptor),
    UsePipes(authValidationPipe),
  );
