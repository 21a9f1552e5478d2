import { Reflector } from '@nestjs/core';

/** Roles a route requires; the caller needs at least one of them. `@Roles(['admin'])` */
export const Roles = Reflector.createDecorator<string[]>();
