import {
  Body,
  Controller,
  Get,
  Header,
  HttpCode,
  HttpStatus,
  Inject,
  Post,
  Req,
  Res,
  UnauthorizedException,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AUTH_OPTIONS } from './auth.constants';
import { AuthService } from './auth.service';
import { AuthRoutes } from './decorators/auth-routes.decorator';
import { CurrentUser } from './decorators/current-user.decorator';
import { Public } from './decorators/public.decorator';
import { ChangePasswordDto, LoginDto, RegisterDto } from './dto/credentials.dto';
import { RefreshDto, RefreshTokenDto } from './dto/refresh-token.dto';
import type { ResolvedAuthOptions } from './interfaces/auth-module-options.interface';
import type { AuthPrincipal } from './interfaces/auth-principal.interface';
import { RefreshTokenTransport } from './tokens/refresh-token-transport';
import type { TokenResponse } from './tokens/token-response';
import type { PublicUser } from './users/auth-user-store';

@Controller('auth')
@AuthRoutes()
export class AuthController {
  private readonly transport: RefreshTokenTransport;

  constructor(
    private readonly auth: AuthService,
    @Inject(AUTH_OPTIONS) options: ResolvedAuthOptions,
  ) {
    this.transport = new RefreshTokenTransport(options.cookieSecure);
  }

  @Public()
  @Post('register')
  register(@Body() body: RegisterDto): Promise<PublicUser> {
    return this.auth.register(body);
  }

  @Public()
  @Post('login')
  @HttpCode(HttpStatus.OK)
  @Header('Cache-Control', 'no-store')
  async login(
    @Body() body: LoginDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TokenResponse> {
    const tokens = await this.auth.login(body, {
      userAgent: request.headers['user-agent']?.slice(0, 512) ?? null,
      ip: request.ip ?? null,
    });
    return this.transport.respond(request, reply, tokens);
  }

  /** Not served without refresh tokens (404, see RefreshTokensDisabledMiddleware). */
  @Public()
  @Post('refresh')
  @HttpCode(HttpStatus.OK)
  @Header('Cache-Control', 'no-store')
  async refresh(
    @Body() body: RefreshDto = {},
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TokenResponse> {
    const presented = this.transport.read(request, body.refresh_token);
    if (!presented) throw new UnauthorizedException('Missing refresh token');
    const tokens = await this.auth.refresh(presented, body.device_id);
    return this.transport.respond(request, reply, tokens);
  }

  /** Ends the session named by the refresh token (body or cookie) or by the bearer token. */
  @Public()
  @Post('logout')
  @HttpCode(HttpStatus.NO_CONTENT)
  async logout(
    @Body() body: RefreshTokenDto = {},
    @CurrentUser() principal: AuthPrincipal | undefined,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<void> {
    const presented = this.transport.read(request, body.refresh_token);
    if (RefreshTokenTransport.usesCookie(request)) this.transport.clear(reply);
    if (presented) return this.auth.logoutWithRefreshToken(presented);
    if (principal) return this.auth.logoutSession(principal);
    const challenge = request.headers.authorization ? 'Bearer error="invalid_token"' : 'Bearer';
    reply.header('WWW-Authenticate', challenge);
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
    @Body() body: ChangePasswordDto,
  ): Promise<void> {
    return this.auth.changePassword(principal, body);
  }

  @Get('me')
  me(@CurrentUser() principal: AuthPrincipal): Promise<PublicUser> {
    return this.auth.me(principal);
  }
}
