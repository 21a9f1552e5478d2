import {
  type ArgumentMetadata,
  BadRequestException,
  Injectable,
  ValidationPipe,
} from '@nestjs/common';
import * as classTransformer from 'class-transformer';
import * as classValidator from 'class-validator';

/** Deeper bodies are refused before class-transformer, which recurses once per level. */
export const MAX_BODY_DEPTH = 32;

/**
 * Keys ValidationPipe strips without a word, so `forbidNonWhitelisted` never names them. Fastify's
 * JSON parser refuses bodies that carry them; Express's keeps them as plain keys.
 */
const PROTOTYPE_KEYS = ['__proto__', 'constructor'];

/**
 * The ValidationPipe the module (and the example host) use: whitelist, forbid unknown fields,
 * transform; and a depth limit, since a 3 KiB body nested a thousand levels deep would otherwise
 * overflow the stack inside class-transformer and answer 500. `__proto__` and `constructor` count
 * as unknown fields too, whichever HTTP adapter parsed the body.
 */
@Injectable()
export class AuthValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      // The copies the DTOs were decorated with, not whichever the host's @nestjs/common finds.
      validatorPackage: classValidator,
      transformerPackage: classTransformer,
    });
  }

  override transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    // Custom parameter decorators (`@CurrentUser()`) hand over server-made values, which the
    // pipe does not validate either: no need to walk them on every guarded request.
    if (metadata.type !== 'custom') {
      if (depthExceeds(value, MAX_BODY_DEPTH)) {
        throw new BadRequestException(
          `Request body is nested deeper than ${MAX_BODY_DEPTH} levels`,
        );
      }
      // Only where a DTO is validated: a `@Body() body: unknown` (the OAuth parameters) is not.
      const key = this.toValidate(metadata) ? findPrototypeKey(value) : undefined;
      if (key) throw new BadRequestException([`property ${key} should not exist`]);
    }
    return super.transform(value, metadata);
  }
}

/** Iterative, so the check itself cannot overflow the stack. */
function depthExceeds(value: unknown, maxDepth: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    if (depth >= maxDepth) return true;
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return false;
}

/** The first prototype key at any depth (called once the depth is known to be bounded). */
function findPrototypeKey(value: unknown): string | undefined {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const current = stack.pop();
    if (current === null || typeof current !== 'object') continue;
    const key = PROTOTYPE_KEYS.find((name) => Object.hasOwn(current, name));
    if (key) return key;
    for (const child of Object.values(current)) stack.push(child);
  }
  return undefined;
}
