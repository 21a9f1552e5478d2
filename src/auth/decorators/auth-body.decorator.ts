import {
  type ArgumentMetadata,
  createParamDecorator,
  type ExecutionContext,
  type PipeTransform,
} from '@nestjs/common';
import { authValidationPipe } from './auth-routes.decorator';

/** The module's ValidationPipe on the body `@AuthBody()` reads, exactly as on a `@Body()`. */
class AuthBodyValidation implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    return authValidationPipe.transform(value, { ...metadata, type: 'body' });
  }
}

const RequestBody = createParamDecorator(
  (_data: unknown, context: ExecutionContext): unknown =>
    context.switchToHttp().getRequest<{ body?: unknown }>().body,
);

/**
 * The request body of a module route, validated by the module's pipe alone. Not `@Body()`: a
 * host's global ValidationPipe runs before the module's pipes, and on a `@Body()` it would strip
 * the unknown fields the module refuses, or answer in the host's error shape. ValidationPipe
 * leaves custom parameter decorators alone (unless `validateCustomDecorators`).
 */
export const AuthBody = (): ParameterDecorator => RequestBody(new AuthBodyValidation());
