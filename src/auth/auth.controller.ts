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
  UseGuards,
  UseInterceptors,
  UsePipes,
  ValidationPipe,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AUTH_OPTIONS } from './auth.constants';
import { AuthService } from './auth.service';
import { CurrentUser } from './decorators/current-user.decorator';
import { Public } from './decorators/public.decorator';
import { LoginDto, RegisterDto } from './dto/credentials.dto';
import { JwtAuthGuard } from './guards/jwt-auth.guard';
import { JsonBodyInterceptor } from './interceptors/json-body.interceptor';
import { RefreshTokenDto } from './dto/refresh-token.dto';
import type { ResolvedAuthOptions } from './interfaces/auth-module-options.interface';
import type { AuthPrincipal } from './interfaces/auth-principal.interface';
import { RefreshTokenTransport } from './tokens/refresh-token-transport';
import type { TokenResponse } from './tokens/token-response';
import type { PublicUser } from './users/auth-user-store';

/** The module validates its own input, whatever pipes the host app installs. */
export const authValidationPipe = new ValidationPipe({
  whitelist: true,
  forbidNonWhitelisted: true,
  transform: true,
});

// The controller guards and validates itself, so it works whether or not the host installs the
// global guard and pipes.
@Controller('auth')
@UseGuards(JwtAuthGuard)
@UseInterceptors(JsonBodyInterceptor)
@UsePipes(authValidationPipe)
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

  @Public()
  @Post('refresh')
  @HttpCode(HttpStatus.OK)
  @Header('Cache-Control', 'no-store')
  async refresh(
    @Body() body: RefreshTokenDto = {},
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TokenResponse> {
    const presented = this.transport.read(request, body.refresh_token);
    if (!presented) throw new UnauthorizedException('Missing refresh token');
    const tokens = await this.auth.refresh(presented);
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

  @Get('me')
  me(@CurrentUser() principal: AuthPrincipal): Promise<PublicUser> {
    return this.auth.me(principal);
  }
}
