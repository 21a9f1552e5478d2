import {
  Controller,
  Get,
  Header,
  HttpCode,
  HttpStatus,
  Post,
  Req,
  Res,
  UnauthorizedException,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { AuthService } from './auth.service';
import { AuthBody } from './decorators/auth-body.decorator';
import { AuthRoutes } from './decorators/auth-routes.decorator';
import { CurrentUser } from './decorators/current-user.decorator';
import { Public } from './decorators/public.decorator';
import { ChangePasswordDto, LoginDto } from './dto/credentials.dto';
import { RefreshDto, RefreshTokenDto } from './dto/refresh-token.dto';
import { type AuthRequest, clientOf } from './http/auth-request';
import type { AuthPrincipal } from './interfaces/auth-principal.interface';
import { RefreshTokenTransport } from './tokens/refresh-token-transport';
import type { TokenResponse } from './tokens/token-response';
import type { PublicUser } from './users/auth-user-store';

@Controller('auth')
@AuthRoutes()
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly transport: RefreshTokenTransport,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  @Public()
  @Post('login')
  @HttpCode(HttpStatus.OK)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  async login(
    @AuthBody() body: LoginDto,
    @Req() request: AuthRequest,
    @Res({ passthrough: true }) response: unknown,
  ): Promise<TokenResponse> {
    const tokens = await this.auth.login(body, clientOf(request));
    return this.transport.respond(request, response, tokens);
  }

  /** Not served without refresh tokens (404, see RefreshTokensDisabledMiddleware). */
  @Public()
  @Post('refresh')
  @HttpCode(HttpStatus.OK)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  async refresh(
    @AuthBody() body: RefreshDto = {},
    @Req() request: AuthRequest,
    @Res({ passthrough: true }) response: unknown,
  ): Promise<TokenResponse> {
    const presented = this.transport.read(request, body.refresh_token);
    if (!presented) throw new UnauthorizedException('Missing refresh token');
    const tokens = await this.auth.refresh(presented, body.device_id);
    return this.transport.respond(request, response, tokens);
  }

  /** Ends the session named by the refresh token (body or cookie) or by the bearer token. */
  @Public()
  @Post('logout')
  @HttpCode(HttpStatus.NO_CONTENT)
  async logout(
    @AuthBody() body: RefreshTokenDto = {},
    @CurrentUser() principal: AuthPrincipal | undefined,
    @Req() request: AuthRequest,
    @Res({ passthrough: true }) response: unknown,
  ): Promise<void> {
    const presented = this.transport.read(request, body.refresh_token);
    if (RefreshTokenTransport.usesCookie(request)) this.transport.clear(response);
    if (presented) return this.auth.logoutWithRefreshToken(presented);
    if (principal) return this.auth.logoutSession(principal);
    const challenge = request.headers.authorization ? 'Bearer error="invalid_token"' : 'Bearer';
    this.adapterHost.httpAdapter.setHeader(response, 'WWW-Authenticate', challenge);
    throw new UnauthorizedException('Missing refresh token or bearer token');
  }

  /** Ends every session of the caller, this one included. */
  @Post('logout-all')
  @HttpCode(HttpStatus.NO_CONTENT)
  logoutAll(@CurrentUser() principal: AuthPrincipal): Promise<void> {
    return this.auth.logoutAll(principal);
  }

  /** 403 when `currentPassword` is wrong (the bearer token itself is fine). */
  @Post('password')
  @HttpCode(HttpStatus.NO_CONTENT)
  changePassword(
    @CurrentUser() principal: AuthPrincipal,
    @AuthBody() body: ChangePasswordDto,
  ): Promise<void> {
    return this.auth.changePassword(principal, body);
  }

  @Get('me')
  me(@CurrentUser() principal: AuthPrincipal): Promise<PublicUser> {
    return this.auth.me(principal);
  }
}
