import { Injectable, Logger } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import type { AuthEventName, AuthEventPayloads } from './auth-events';

/** Emits an auth event to the host's listeners and logs it as one line. */
@Injectable()
export class AuthEventPublisher {
  private readonly logger = new Logger('AuthEvents');

  constructor(private readonly emitter: EventEmitter2) {}

  publish<E extends AuthEventName>(name: E, payload: AuthEventPayloads[E]): void {
    const line = `${name} ${JSON.stringify(payload)}`;
    if (name === 'login.failed' || name === 'token.reuse_detected') this.logger.warn(line);
    else this.logger.log(line);
    try {
      this.emitter.emit(name, payload);
    } catch (error) {
      // A failing listener of the host must not fail the login or refresh that emitted.
      this.logger.error(`listener of ${name} failed: ${(error as Error).message}`);
    }
  }
}
