import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { AuthEventName, AuthEventPayloads } from './auth-events';

/** The part of `@nestjs/event-emitter`'s EventEmitter2 the module uses. */
interface EventSink {
  emit(event: string, payload: unknown): unknown;
}

/**
 * Emits an auth event to the host's listeners and logs it as one line. Listeners use
 * `@nestjs/event-emitter` (`@OnEvent(AuthEvent.LoginSucceeded)`): when the host imports
 * `EventEmitterModule.forRoot()`, events go to its emitter; without it they are only logged.
 * The module never registers an emitter of its own, so the host's emitter options hold.
 */
@Injectable()
export class AuthEventPublisher implements OnModuleInit {
  private readonly logger = new Logger('AuthEvents');
  private emitter?: EventSink;

  constructor(private readonly moduleRef: ModuleRef) {}

  onModuleInit(): void {
    const token = eventEmitterToken();
    if (!token) return;
    try {
      this.emitter = this.moduleRef.get<EventSink>(token, { strict: false });
    } catch {
      // No EventEmitterModule in the app: logging only.
    }
  }

  publish<E extends AuthEventName>(name: E, payload: AuthEventPayloads[E]): void {
    const line = `${name} ${JSON.stringify(payload)}`;
    if (name === 'login.failed' || name === 'token.reuse_detected') this.logger.warn(line);
    else this.logger.log(line);
    try {
      this.emitter?.emit(name, payload);
    } catch (error) {
      // A failing listener of the host must not fail the login or refresh that emitted.
      this.logger.error(`listener of ${name} failed: ${(error as Error).message}`);
    }
  }
}

/** EventEmitter2's class (the provider token), when the optional peer is installed. */
function eventEmitterToken(): (abstract new (...args: never[]) => EventSink) | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require('@nestjs/event-emitter') as { EventEmitter2: never }).EventEmitter2;
  } catch {
    return undefined;
  }
}
