import { type ArgumentsHost, Catch, HttpStatus, Logger } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import type { FastifyReply } from 'fastify';

// PostgreSQL SQLSTATE classes and codes that mean "the database is not there right now".
const UNAVAILABLE_SQLSTATE = /^(08|57P0[1-3]|53300)/;
const UNAVAILABLE_ERRNO = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
]);
const UNAVAILABLE_MESSAGE =
  /Connection terminated|timeout exceeded when trying to connect|Query read timeout|Connection terminated due to connection timeout|Client has encountered a connection error|Connection is not established/i;

/** A database outage answers 503 with `Retry-After` instead of a 500; anything else as usual. */
@Catch()
export class DatabaseUnavailableFilter extends BaseExceptionFilter {
  private readonly logger = new Logger('Database');

  override catch(exception: unknown, host: ArgumentsHost): void {
    if (!isDatabaseUnavailable(exception)) return super.catch(exception, host);
    this.logger.warn(
      `database unavailable: ${String((exception as { message?: unknown }).message)}`,
    );
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    void reply.status(HttpStatus.SERVICE_UNAVAILABLE).header('Retry-After', '5').send({
      statusCode: HttpStatus.SERVICE_UNAVAILABLE,
      message: 'Service temporarily unavailable',
      error: 'Service Unavailable',
    });
  }
}

export function isDatabaseUnavailable(error: unknown): boolean {
  // Duck-typed: errors from node:net may come from another realm (Jest's VM), failing instanceof.
  if (typeof error !== 'object' || error === null) return false;
  const { code, message, driverError } = error as {
    code?: unknown;
    message?: unknown;
    driverError?: unknown;
  };
  if (
    typeof code === 'string' &&
    (UNAVAILABLE_SQLSTATE.test(code) || UNAVAILABLE_ERRNO.has(code))
  ) {
    return true;
  }
  if (typeof message === 'string' && UNAVAILABLE_MESSAGE.test(message)) return true;
  return driverError !== error && isDatabaseUnavailable(driverError);
}
