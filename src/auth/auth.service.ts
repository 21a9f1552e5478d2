import {
  ConflictException,
  ForbiddenException,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import type { ChangePasswordDto, LoginDto, RegisterDto } from './dto/credentials.dto';
import { AuthEventPublisher } from './events/auth-event-publisher';
import { AuthEvent, type LoginFailureReason } from './events/auth-events';
import type { ResolvedAuthOptions } from './interfaces/auth-module-options.interface';
import { LoginAttemptsService } from './login-attempts/login-attempts.service';
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
import { hashDeviceId, isBoundDevice } from './sessions/device-binding';
import { SessionsService } from './sessions/sessions.service';
import { AccessTokenService } from './tokens/access-token.service';
import type { IssuedTokens } from './tokens/token-response';
import {
  type AuthUserRecord,
  AuthUserStore,
  type PublicUser,
  toPublicUser,
} from './users/auth-user-store';
import { InjectAuthOptions } from './decorators/inject-auth-options.decorator';

/** Where a request came from, recorded on the session it starts. */
export interface ClientContext {
  userAgent: string | null;
  ip: string | null;
}

const INVALID_CREDENTIALS = 'Invalid email or password';
const INVALID_REFRESH_TOKEN = 'Invalid refresh token';

/** Registration, login, refresh (rotation and reuse detection), logout and password changes. */
@Injectable()
export class AuthService {
  constructor(
    @InjectAuthOptions() private readonly options: ResolvedAuthOptions,
    private readonly users: AuthUserStore,
    private readonly passwords: PasswordHasher,
    private readonly accessTokens: AccessTokenService,
    private readonly refreshTokens: RefreshTokenRepository,
    private readonly sessions: SessionsService,
    private readonly events: AuthEventPublisher,
    private readonly loginAttempts: LoginAttemptsService,
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

  /** Checks the credentials and starts a session. Every failure looks the same to the client. */
  async login(input: LoginDto, client: ClientContext): Promise<IssuedTokens> {
    await this.loginAttempts.assertNotLocked(input.email);
    const user = await this.users.findByEmail(input.email);
    const valid = user
      ? await this.passwords.verify(user.passwordHash, input.password)
      : await this.passwords.verifyAgainstDummy(input.password);
    const failure: LoginFailureReason | null = !user
      ? 'unknown_email'
      : !valid
        ? 'wrong_password'
        : user.disabled
          ? 'user_disabled'
          : null;
    if (failure || !user) {
      await this.loginAttempts.recordFailure(input.email);
      this.events.publish(AuthEvent.LoginFailed, {
        email: input.email,
        reason: failure!,
        ip: client.ip,
      });
      throw new UnauthorizedException(INVALID_CREDENTIALS);
    }
    await this.loginAttempts.recordSuccess(input.email);

    // Access-token-only mode issues no refresh token: the session is its access token's.
    const refreshToken = this.options.refreshTokens ? generateRefreshToken() : undefined;
    const now = new Date();
    const session = await this.refreshTokens.startSession(
      {
        userId: user.id,
        device: input.device ?? null,
        deviceIdHash: input.device_id === undefined ? null : hashDeviceId(input.device_id),
        userAgent: client.userAgent,
        ip: client.ip,
        expiresAt: new Date(now.getTime() + this.sessionLifetime() * 1000),
      },
      now,
      refreshToken?.hash,
    );
    this.events.publish(AuthEvent.LoginSucceeded, {
      userId: user.id,
      sessionId: session.sessionId,
      ip: client.ip,
      userAgent: client.userAgent,
    });
    return this.issueTokens(user, session, refreshToken?.value, now);
  }

  /**
   * Exchanges a refresh token for a new pair. The presented token is rotated; presented again
   * within the grace window it yields another pair for the same session, later it ends the
   * session (reuse detection). With device binding, `deviceId` must be the one the session's
   * login carried, if it carried one.
   */
  async refresh(presented: string, deviceId?: string): Promise<IssuedTokens> {
    if (!isWellFormedRefreshToken(presented))
      throw new UnauthorizedException(INVALID_REFRESH_TOKEN);
    const presentedHash = hashRefreshToken(presented);
    if (this.options.refreshBinding === 'device') {
      await this.assertBoundDevice(presentedHash, deviceId);
    }
    const next = generateRefreshToken();
    const now = new Date();
    const idleSince = new Date(now.getTime() - this.options.refreshIdleTtl * 1000);

    const rotated = await this.refreshTokens.rotate(presentedHash, next.hash, now, idleSince);
    const session =
      rotated ?? (await this.refreshAfterFailedRotation(presentedHash, next.hash, now, idleSince));

    const user = await this.users.findById(session.userId);
    if (!user || user.disabled) {
      await this.sessions.end(session.sessionId, 'user_disabled');
      throw new UnauthorizedException(INVALID_REFRESH_TOKEN);
    }
    this.events.publish(AuthEvent.TokenRefreshed, {
      userId: user.id,
      sessionId: session.sessionId,
      withinGrace: rotated === null,
    });
    return this.issueTokens(user, session, next.value, now);
  }

  /** Ends the session a refresh token belongs to. Unknown tokens are ignored (idempotent). */
  async logoutWithRefreshToken(presented: string): Promise<void> {
    if (!isWellFormedRefreshToken(presented)) return;
    const token = await this.refreshTokens.findPresented(hashRefreshToken(presented));
    if (token) await this.sessions.end(token.sessionId, 'logout');
  }

  async logoutSession(principal: AuthPrincipal): Promise<void> {
    await this.sessions.end(principal.sessionId, 'logout');
  }

  async logoutAll(principal: AuthPrincipal): Promise<void> {
    await this.sessions.endAllForUser(principal.id, 'logout_all');
  }

  /** Changes the caller's password and ends every other session of theirs. */
  async changePassword(principal: AuthPrincipal, input: ChangePasswordDto): Promise<void> {
    const user = await this.users.findById(principal.id);
    if (!user) throw new UnauthorizedException('Unknown user');
    if (!(await this.passwords.verify(user.passwordHash, input.currentPassword))) {
      throw new ForbiddenException('Current password is wrong');
    }
    await this.users.update(user.id, {
      passwordHash: await this.passwords.hash(input.newPassword),
    });
    const endedSessions = await this.sessions.endAllForUser(
      user.id,
      'password_changed',
      principal.sessionId,
    );
    this.events.publish(AuthEvent.PasswordChanged, { userId: user.id, endedSessions });
  }

  async me(principal: AuthPrincipal): Promise<PublicUser> {
    const user = await this.users.findById(principal.id);
    if (!user) throw new UnauthorizedException('Unknown user');
    return toPublicUser(user);
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
    // Negative when a concurrent request rotated it after this one read the clock.
    const sinceRotation = now.getTime() - token.rotatedAt.getTime();
    const grace = this.options.refreshReuseGrace * 1000;
    if (grace > 0 && sinceRotation < grace) {
      const session = await this.refreshTokens.issueInSession(
        token.sessionId,
        nextHash,
        now,
        idleSince,
      );
      if (session) return session;
      throw new UnauthorizedException(INVALID_REFRESH_TOKEN);
    }
    this.events.publish(AuthEvent.TokenReuseDetected, {
      userId: token.userId,
      sessionId: token.sessionId,
      reason: 'rotated_token',
    });
    await this.sessions.end(token.sessionId, 'reuse_detected');
    throw new UnauthorizedException(INVALID_REFRESH_TOKEN);
  }

  /**
   * Device binding: a session whose login carried a `device_id` is refreshed only with the same
   * one. Anything else is a token used away from its device, so the whole session ends, as on
   * reuse. Sessions whose login carried none stay unbound: a later refresh cannot bind them.
   *
   * This is a read before the rotation, since the digests are compared here in constant time:
   * the binding is written at login and never changes, so the read cannot go stale, and a
   * mismatching request never reaches the rotation, whose compare-and-swap still decides
   * between concurrent refreshes.
   */
  private async assertBoundDevice(presentedHash: Buffer, deviceId?: string): Promise<void> {
    const token = await this.refreshTokens.findPresented(presentedHash);
    // Unknown tokens and ended sessions are refused by the rotation, as without binding.
    if (!token?.deviceIdHash || token.revokedAt) return;
    if (isBoundDevice(token.deviceIdHash, deviceId)) return;
    this.events.publish(AuthEvent.TokenReuseDetected, {
      userId: token.userId,
      sessionId: token.sessionId,
      reason: 'device_mismatch',
    });
    await this.sessions.end(token.sessionId, 'device_mismatch');
    throw new UnauthorizedException(INVALID_REFRESH_TOKEN);
  }

  /**
   * Seconds a new session lives at most. Without refresh tokens nothing marks a session as used,
   * so it lasts exactly as long as its one access token (and never past the other two limits).
   */
  private sessionLifetime(): number {
    const { accessTokenTtl, refreshTokenTtl, refreshIdleTtl } = this.options;
    return this.options.refreshTokens
      ? refreshTokenTtl
      : Math.min(accessTokenTtl, refreshTokenTtl, refreshIdleTtl);
  }

  private issueTokens(
    user: AuthUserRecord,
    session: SessionState,
    refreshToken: string | undefined,
    now: Date,
  ): IssuedTokens {
    const idleEnd = session.lastUsedAt.getTime() + this.options.refreshIdleTtl * 1000;
    const sessionEnd = new Date(Math.min(session.expiresAt.getTime(), idleEnd));
    // The access token never outlives its session: expiry needs no revocation.
    const access = this.accessTokens.issue(
      { userId: user.id, sessionId: session.sessionId, roles: user.roles },
      sessionEnd,
      now,
    );
    const tokens: IssuedTokens = {
      accessToken: access.token,
      expiresIn: access.expiresIn,
      sessionId: session.sessionId,
    };
    if (refreshToken === undefined) return tokens;
    return {
      ...tokens,
      refreshToken,
      refreshTokenExpiresIn: Math.max(0, Math.floor((sessionEnd.getTime() - now.getTime()) / 1000)),
    };
  }
}
