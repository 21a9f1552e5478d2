import {
  Body,
  Controller,
  Header,
  HttpCode,
  HttpStatus,
  Post,
  Req,
  UseFilters,
  UseInterceptors,
} from '@nestjs/common';
import { Public } from '../decorators/public.decorator';
import { type AuthRequest, clientOf } from '../http/auth-request';
import type { TokenResponse } from '../tokens/token-response';
import { OAuthBodyInterceptor } from './oauth-body.interceptor';
import { OAuthExceptionFilter } from './oauth-exception.filter';
import { OAuthParameters } from './oauth-parameters';
import { OAuthService } from './oauth.service';

/**
 * RFC 6749 token endpoint (password and refresh_token grants) and RFC 7009 revocation, for
 * public clients: `client_id` is accepted, no client secret is required. Form-encoded or JSON.
 */
@Controller('oauth')
@Public()
@UseFilters(OAuthExceptionFilter)
@UseInterceptors(OAuthBodyInterceptor)
export class OAuthController {
  constructor(private readonly oauth: OAuthService) {}

  @Post('token')
  @HttpCode(HttpStatus.OK)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  token(@Body() body: unknown, @Req() request: AuthRequest): Promise<TokenResponse> {
    return this.oauth.token(OAuthParameters.from(body), clientOf(request));
  }

  /** 200 for any token, known or not (RFC 7009 §2.2). */
  @Post('revoke')
  @HttpCode(HttpStatus.OK)
  @Header('Cache-Control', 'no-store')
  async revoke(@Body() body: unknown): Promise<void> {
    await this.oauth.revoke(OAuthParameters.from(body));
  }
}
