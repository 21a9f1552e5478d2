import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';

/** Header the host marks its error responses with. */
export const HOST_ERROR_HEADER = 'x-host-error';

/**
 * The host's global error filter: keeps the status and body of every HTTP error and marks it
 * as the host's (`host: true` and a header), as a host would add its request id or log it.
 * A filter the auth module declares on its own controllers (its OAuth errors, the 429 of a
 * locked login) takes precedence on those routes, as Nest's filter order says.
 */
@Catch(HttpException)
export class HostExceptionFilter implements ExceptionFilter {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: HttpException, host: ArgumentsHost): void {
    const { httpAdapter } = this.adapterHost;
    const response: unknown = host.switchToHttp().getResponse();
    const body = exception.getResponse();
    httpAdapter.setHeader(response, HOST_ERROR_HEADER, '1');
    httpAdapter.reply(
      response,
      typeof body === 'string' ? { message: body, host: true } : { ...body, host: true },
      exception.getStatus(),
    );
  }
}
