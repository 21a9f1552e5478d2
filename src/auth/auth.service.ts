import {
  ConflictException,
  ForbiddenException,
  Inject,
  Injectable,
  Logger,
  UnauthorizedException,
} from '@nestjs/common';
import { AUTH_OPTIONS } from './auth.constants';
import type { LoginDto, RegisterDto } from './dto/credentials.dto';
import type { ResolvedAuthOptions } from './interfaces/auth-module-options.interface';
import type { AuthPrincipal } from './interfaces/auth-principal.interface';
import { PasswordHasher } from './passwords/password-hasher.service';
import {
  generateRefreshToken,
  hashRefreshToken,
  isWellFormedRefreshToken,
} from './refresh-tokens/refresh-token-value';
import {
  RefreshTokenRepository,
  type SessionState,
} from './refresh-tokens/refresh-token.repository';
import { RevokedSessions } from './sessions/revoked-sessions';
import { type SessionEndReason, SessionRepository } from './sessions/session.repository';
import { AccessTokenService } from './tokens/access-token.service';
import type { IssuedTokens } from './tokens/token-response';
import {
  type AuthUserRecord,
  AuthUserStore,
  type PublicUser,
  toPublicUser,
} from './users/auth-user-store';

/** Where a request came from, recorded on the session it starts. */
export interface ClientContext {
  userAgent: string | null;
  ip: string | null;
}

const INVALID_CREDENTIALS = 'Invalid email or password';
const INVALID_REFRESH_TOKEN = 'Invalid refresh token';

@Injectable()
export class AuthService {
  private readonly logger = new Logger(AuthService.name);

  constructor(
    @Inject(AUTH_OPTIONS) private readonly options: ResolvedAuthOptions,
    private readonly users: AuthUserStore,
    private readonly passwords: PasswordHasher,
    private readonly accessTokens: AccessTokenService,
    private readonly refreshTokens: RefreshTokenRepository,
    private readonly sessions: SessionRepository,
    private readonly revokedSessions: RevokedSessions,
  ) {}

  async register(input: RegisterDto): Promise<PublicUser> {
    if (!this.options.registrationOpen) throw new ForbiddenException('Registration is closed');
    const passwordHash = await this.passwords.hash(input.password);
    const user = await this.users.create({
      email: input.email,
      passwordHash,
      name: input.name ?? null,
    });
    if (!user) throw new ConflictException('Email is already registered');
    return toPublicUser(user);
  }

  /** Checks the credentials and starts a session. Every failure looks the same. */
  async login(input: LoginDto, client: ClientContext): Promise<IssuedTokens> {
    const user = await this.users.findByEmail(input.email);
    const valid = user
      ? await this.passwords.verify(user.passwordHash, input.password)
      : await this.passwords.verifyAgainstDummy(input.password);
    if (!user || !valid || user.disabled) throw new UnauthorizedException(INVALID_CREDENTIALS);

    const refreshToken = generateRefreshToken();
    const now = new Date();
    const session = await this.refreshTokens.startSession(
      {
        userId: user.id,
        device: input.device ?? null,
        userAgent: client.userAgent,
        ip: client.ip,
        expiresAt: new Date(now.getTime() + this.options.refreshTokenTtl * 1000),
      },
      refreshToken.hash,
      now,
    );
    return this.issueTokens(user, session, refreshToken.value, now);
  }

  /**
   * Exchanges a refresh token for a new pair. The presented token is rotated; presented again
   * within the grace window it yields another pair for the same session, later it ends the
   * session (reuse detection).
   */
  async refresh(presented: string): Promise<IssuedTokens> {
    if (!isWellFormedRefreshToken(presented))
      throw new UnauthorizedException(INVALID_REFRESH_TOKEN);
    const presentedHash = hashRefreshToken(presented);
    const next = generateRefreshToken();
    const now = new Date();
    const idleSince = new Date(now.getTime() - this.options.refreshIdleTtl * 1000);

    const session =
      (await this.refreshTokens.rotate(presentedHash, next.hash, now, idleSince)) ??
      (await this.refreshAfterFailedRotation(presentedHash, next.hash, now, idleSince));

    const user = await this.users.findById(session.userId);
    if (!user || user.disabled) {
      await this.endSession(session.sessionId, 'user_disabled');
      throw new UnauthorizedException(INVALID_REFRESH_TOKEN);
    }
    return this.issueTokens(user, session, next.value, now);
  }

  /** Ends the session a refresh token belongs to. Unknown tokens are ignored (idempotent). */
  async logoutWithRefreshToken(presented: string): Promise<void> {
    if (!isWellFormedRefreshToken(presented)) return;
    const token = await this.refreshTokens.findPresented(hashRefreshToken(presented));
    if (token) await this.endSession(token.sessionId, 'logout');
  }

  async logoutSession(principal: AuthPrincipal): Promise<void> {
    await this.endSession(principal.sessionId, 'logout');
  }

  async me(principal: AuthPrincipal): Promise<PublicUser> {
    const user = await this.users.findById(principal.id);
    if (!user) throw new UnauthorizedException('Unknown user');
    return toPublicUser(user);
  }

  /** Ends a session and stops its access tokens. */
  async endSession(sessionId: string, reason: SessionEndReason): Promise<void> {
    const now = new Date();
    const ended = await this.sessions.revoke(sessionId, reason, now);
    this.revokedSessions.add(sessionId, now);
    if (ended) this.logger.log(`session ${sessionId} ended: ${reason}`);
  }

  private async refreshAfterFailedRotation(
    presentedHash: Buffer,
    nextHash: Buffer,
    now: Date,
    idleSince: Date,
  ): Promise<SessionState> {
    const token = await this.refreshTokens.findPresented(presentedHash);
    if (!token || token.revokedAt || !token.rotatedAt) {
      throw new UnauthorizedException(INVALID_REFRESH_TOKEN);
    }
    const sinceRotation = now.getTime() - token.rotatedAt.getTime();
    if (sinceRotation < this.options.refreshReuseGrace * 1000) {
      const session = await this.refreshTokens.issueInSession(
        token.sessionId,
        nextHash,
        now,
        idleSince,
      );
      if (session) return session;
      throw new UnauthorizedException(INVALID_REFRESH_TOKEN);
    }
    this.logger.warn(`refresh token reuse detected in session ${token.sessionId}`);
    await this.endSession(token.sessionId, 'reuse_detected');
    throw new UnauthorizedException(INVALID_REFRESH_TOKEN);
  }

  private issueTokens(
    user: AuthUserRecord,
    session: SessionState,
    refreshToken: string,
    now: Date,
  ): IssuedTokens {
    const access = this.accessTokens.issue({
      userId: user.id,
      sessionId: session.sessionId,
      roles: user.roles,
    });
    const idleEnd = session.lastUsedAt.getTime() + this.options.refreshIdleTtl * 1000;
    const end = Math.min(session.expiresAt.getTime(), idleEnd);
    return {
      accessToken: access.token,
      expiresIn: access.expiresIn,
      refreshToken,
      refreshTokenExpiresIn: Math.max(0, Math.floor((end - now.getTime()) / 1000)),
      sessionId: session.sessionId,
    };
  }
}
