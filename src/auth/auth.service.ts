import { randomUUID } from 'node:crypto';
import {
  ConflictException,
  ForbiddenException,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import type { ChangePasswordDto, LoginDto, RegisterDto } from './dto/credentials.dto';
import { AuthEventPublisher } from './events/auth-event-publisher';
import { AuthEvent, type LoginFailureReason, type TokenReuseKind } from './events/auth-events';
import type { ResolvedAuthOptions } from './interfaces/auth-module-options.interface';
import { LoginAttemptsService } from './login-attempts/login-attempts.service';
import type { AuthPrincipal } from './interfaces/auth-principal.interface';
import { PasswordHasher } from './passwords/password-hasher.service';
import { RefreshTokenKeys } from './refresh-tokens/refresh-token-keys';
import {
  hashRefreshToken,
  isLegacyRefreshToken,
  MAX_GENERATION,
  type ParsedRefreshToken,
  sameHash,
} from './refresh-tokens/refresh-token-value';
import {
  RefreshTokenRepository,
  type SessionChain,
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
import { UserStateRepository } from './users/user-state.repository';
import { InjectAuthOptions } from './decorators/inject-auth-options.decorator';

/** Where a request came from, recorded on the session it starts. */
export interface ClientContext {
  userAgent: string | null;
  ip: string | null;
}

const INVALID_CREDENTIALS = 'Invalid email or password';
const INVALID_REFRESH_TOKEN = 'Invalid refresh token';

/** How many times a login reads the user again when a change to it raced the login. */
const LOGIN_ATTEMPTS = 3;

/** Registration, login, refresh (rotation and reuse detection), logout and password changes. */
@Injectable()
export class AuthService {
  constructor(
    @InjectAuthOptions() private readonly options: ResolvedAuthOptions,
    private readonly users: AuthUserStore,
    private readonly passwords: PasswordHasher,
    private readonly accessTokens: AccessTokenService,
    private readonly refreshTokens: RefreshTokenRepository,
    private readonly keys: RefreshTokenKeys,
    private readonly userState: UserStateRepository,
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

  /**
   * Checks the credentials and starts a session. Every failure looks the same to the client.
   *
   * The user is read again after its record's version, and the session starts only if that
   * version still holds: a password change, disable or logout-all acknowledged while the
   * password was being verified is never outlived by this login (it reads the user once more,
   * and then fails or, after a mere logout-all or role change, starts a fresh session).
   */
  async login(input: LoginDto, client: ClientContext): Promise<IssuedTokens> {
    await this.loginAttempts.assertNotLocked(input.email);
    const found = await this.users.findByEmail(input.email);
    if (!found) {
      await this.passwords.verifyAgainstDummy(input.password);
      return this.failLogin(input.email, 'unknown_email', client);
    }
    let verifiedHash: string | undefined;
    for (let attempt = 0; attempt < LOGIN_ATTEMPTS; attempt += 1) {
      const version = await this.userState.version(found.id);
      const user = await this.users.findById(found.id);
      if (!user) return this.failLogin(input.email, 'unknown_email', client);
      if (
        user.passwordHash !== verifiedHash &&
        !(await this.passwords.verify(user.passwordHash, input.password))
      ) {
        return this.failLogin(input.email, 'wrong_password', client);
      }
      verifiedHash = user.passwordHash;
      if (user.disabled) return this.failLogin(input.email, 'user_disabled', client);

      // Access-token-only mode issues no refresh token: the session is its access token's.
      const sessionId = randomUUID();
      const refreshToken = this.options.refreshTokens
        ? this.keys.codec.issue(sessionId, 1)
        : undefined;
      const now = new Date();
      const session = await this.refreshTokens.startSession(
        {
          id: sessionId,
          userId: user.id,
          device: input.device ?? null,
          deviceIdHash: input.device_id === undefined ? null : hashDeviceId(input.device_id),
          userAgent: client.userAgent,
          ip: client.ip,
          expiresAt: new Date(now.getTime() + this.sessionLifetime() * 1000),
          tokenHash: refreshToken?.hash,
          roles: user.roles,
          userVersion: version,
        },
        now,
      );
      if (!session) continue;
      await this.loginAttempts.recordSuccess(input.email);
      this.events.publish(AuthEvent.LoginSucceeded, {
        userId: user.id,
        sessionId: session.sessionId,
        ip: client.ip,
        userAgent: client.userAgent,
      });
      return this.issueTokens(session, user.roles, refreshToken?.value, now);
    }
    // The user changed under every attempt: rare enough to ask the client to try again.
    throw new ConflictException('The account changed during the login; try again');
  }

  /**
   * Exchanges a refresh token for a new pair: one compare-and-swap of the session's chain. A
   * token that does not rotate is the predecessor within the grace window (the same successor
   * again), a reuse (the session ends), or a token of an ended session.
   */
  async refresh(presented: string, deviceId?: string): Promise<IssuedTokens> {
    const now = new Date();
    if (isLegacyRefreshToken(presented)) return this.refreshLegacy(presented, deviceId, now);
    const token = this.keys.codec.parse(presented);
    if (!token || token.generation >= MAX_GENERATION) {
      throw new UnauthorizedException(INVALID_REFRESH_TOKEN);
    }
    if (this.options.refreshBinding === 'device') {
      await this.assertBoundDevice(await this.refreshTokens.findChain(token.sessionId), deviceId);
    }
    const next = this.keys.codec.issue(token.sessionId, token.generation + 1);
    const rotated = await this.refreshTokens.rotate(
      token.sessionId,
      token.generation,
      token.hash,
      { hash: next.hash, box: this.keys.codec.sealSuccessor(presented, next.value) },
      now,
      this.idleSince(now),
    );
    if (rotated) return this.completeRefresh(rotated, next.value, now, false);
    const chain = await this.refreshTokens.findChain(token.sessionId);
    return this.presentedAgain(chain, token, presented, now);
  }

  /** Ends the session a refresh token belongs to. Unknown tokens are ignored (idempotent). */
  async logoutWithRefreshToken(presented: string): Promise<void> {
    const sessionId = isLegacyRefreshToken(presented)
      ? (await this.refreshTokens.findLegacy(hashRefreshToken(presented)))?.sessionId
      : this.keys.codec.parse(presented)?.sessionId;
    if (sessionId) await this.sessions.end(sessionId, 'logout');
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

  /**
   * Tells the module that a user changed in the host's own store, outside the module's routes:
   * roles (every live session's next access token carries the new ones), a disable or deletion
   * (every session ends), or a new password (`{ passwordChanged: true }`: every session ends).
   * Changes made through the module (`PATCH /admin/users/:id`, `POST /auth/password`) need no
   * call. Call it after your change has committed. Like those, it wins every race with logins
   * and refreshes once it has returned.
   */
  async syncUser(userId: string, change: { passwordChanged?: boolean } = {}): Promise<void> {
    for (let attempt = 0; attempt < LOGIN_ATTEMPTS; attempt += 1) {
      const user = await this.users.findById(userId);
      if (!user || user.disabled) {
        await this.sessions.endAllForUser(user?.id ?? userId, 'user_disabled');
        return;
      }
      if (change.passwordChanged) {
        await this.sessions.endAllForUser(user.id, 'password_changed');
        return;
      }
      await this.sessions.recordUserChange(user.id, { roles: user.roles });
      // Two changes racing (two admins) may record in the other order than they wrote the
      // store: the last recorder checks that the store still says what it recorded.
      const after = await this.users.findById(user.id);
      if (after && !after.disabled && sameRoles(after.roles, user.roles)) return;
    }
  }

  async me(principal: AuthPrincipal): Promise<PublicUser> {
    const user = await this.users.findById(principal.id);
    if (!user) throw new UnauthorizedException('Unknown user');
    return toPublicUser(user);
  }

  private async failLogin(
    email: string,
    reason: LoginFailureReason,
    client: ClientContext,
  ): Promise<never> {
    await this.loginAttempts.recordFailure(email);
    this.events.publish(AuthEvent.LoginFailed, { email, reason, ip: client.ip });
    throw new UnauthorizedException(INVALID_CREDENTIALS);
  }

  /**
   * A token that did not rotate. Only the predecessor of the current token, within the grace
   * window, is answered, with the successor the first presenter got (opened with the presented
   * token itself: the database does not hold it in the clear). Any other token the service
   * issued for a live session is a reuse and ends the session.
   */
  private async presentedAgain(
    chain: SessionChain | null,
    token: Pick<ParsedRefreshToken, 'generation' | 'hash'>,
    presented: string,
    now: Date,
  ): Promise<IssuedTokens> {
    if (!chain || chain.generation === null || token.generation > chain.generation) {
      throw new UnauthorizedException(INVALID_REFRESH_TOKEN);
    }
    const sinceRotation = chain.rotatedAt ? now.getTime() - chain.rotatedAt.getTime() : null;
    const report = (kind: TokenReuseKind, accepted: boolean, sessionEnded: boolean) =>
      this.events.publish(AuthEvent.TokenReuseDetected, {
        userId: chain.userId,
        sessionId: chain.sessionId,
        reason: 'rotated_token',
        kind,
        presentedGeneration: token.generation,
        currentGeneration: chain.generation,
        // Negative when a concurrent request rotated it after this one read the clock.
        msSinceRotation: sinceRotation === null ? null : Math.max(0, sinceRotation),
        accepted,
        sessionEnded,
      });
    if (!this.isAlive(chain, now)) {
      if (token.generation < chain.generation) report('ended_session', false, false);
      throw new UnauthorizedException(INVALID_REFRESH_TOKEN);
    }
    if (token.generation === chain.generation) {
      // The current token that did not rotate: the session ended meanwhile, or not ours.
      throw new UnauthorizedException(INVALID_REFRESH_TOKEN);
    }
    const isPredecessor =
      token.generation === chain.generation - 1 && sameHash(token.hash, chain.previousTokenHash);
    const grace = this.options.refreshReuseGrace * 1000;
    // `sinceRotation` is negative when a concurrent request rotated after this one read the
    // clock: with grace 0 that is a reuse all the same (exactly one of them succeeds).
    const withinGrace = grace > 0 && sinceRotation !== null && sinceRotation < grace;
    if (isPredecessor && withinGrace && chain.successorBox) {
      const successor = this.keys.codec.openSuccessor(presented, chain.successorBox);
      if (successor) {
        report('predecessor_within_grace', true, false);
        await this.refreshTokens.touch(chain.sessionId, now);
        return this.completeRefresh(chain, successor, now, true);
      }
    }
    if (!isPredecessor && withinGrace) {
      // An older generation while the chain moved on within the window (a tab that slept
      // through two quick rotations): possibly rotated less than the grace ago, so refused
      // without ending the session. Its successor is gone; the tab uses the current token.
      report('older_generation', false, false);
      throw new UnauthorizedException(INVALID_REFRESH_TOKEN);
    }
    report(isPredecessor ? 'predecessor_after_grace' : 'older_generation', false, true);
    await this.sessions.end(chain.sessionId, 'reuse_detected');
    throw new UnauthorizedException(INVALID_REFRESH_TOKEN);
  }

  /**
   * A token issued before generations existed (the upgrade): it rotates once into the new
   * scheme; presented again it is answered like any predecessor (generation 0).
   */
  private async refreshLegacy(
    presented: string,
    deviceId: string | undefined,
    now: Date,
  ): Promise<IssuedTokens> {
    const hash = hashRefreshToken(presented);
    const legacy = await this.refreshTokens.findLegacy(hash);
    if (!legacy) throw new UnauthorizedException(INVALID_REFRESH_TOKEN);
    if (this.options.refreshBinding === 'device') await this.assertBoundDevice(legacy, deviceId);
    const next = this.keys.codec.issue(legacy.sessionId, 1);
    const rotated = await this.refreshTokens.rotateLegacy(
      hash,
      { hash: next.hash, box: this.keys.codec.sealSuccessor(presented, next.value) },
      now,
      this.idleSince(now),
    );
    if (rotated) return this.completeRefresh(rotated, next.value, now, false);
    const chain = await this.refreshTokens.findChain(legacy.sessionId);
    if (chain?.generation === null && legacy.rotatedAt) {
      // Rotated before the upgrade: a reuse under the old scheme.
      this.events.publish(AuthEvent.TokenReuseDetected, {
        userId: legacy.userId,
        sessionId: legacy.sessionId,
        reason: 'rotated_token',
        kind: 'older_generation',
        presentedGeneration: 0,
        currentGeneration: null,
        msSinceRotation: now.getTime() - legacy.rotatedAt.getTime(),
        accepted: false,
        sessionEnded: this.isAlive(chain, now),
      });
      if (this.isAlive(chain, now)) await this.sessions.end(legacy.sessionId, 'reuse_detected');
      throw new UnauthorizedException(INVALID_REFRESH_TOKEN);
    }
    if (
      !legacy.rotatedAt &&
      chain?.generation != null &&
      !sameHash(hash, chain.previousTokenHash)
    ) {
      // An unrotated sibling: the previous release answered a replay within its grace window
      // with another token in the same session. The session went on with the other branch;
      // this one is retired without ending it (it never was a theft).
      throw new UnauthorizedException(INVALID_REFRESH_TOKEN);
    }
    return this.presentedAgain(chain, { generation: 0, hash }, presented, now);
  }

  /**
   * The roles of the new access token. With `readUserOnRefresh` (the default) they come from the
   * user store, read after the rotation: a change made through the module writes the store
   * before it records the change, so this read is never older than the session's roles, and a
   * change made in the host's own store is seen too (a disabled or deleted user's session ends).
   * Without it, from the session: one round trip.
   */
  private async completeRefresh(
    session: SessionState,
    refreshToken: string,
    now: Date,
    withinGrace: boolean,
  ): Promise<IssuedTokens> {
    const roles = this.options.readUserOnRefresh
      ? (await this.liveUser(session)).roles
      : (session.roles ?? (await this.rolesFromStore(session)));
    this.events.publish(AuthEvent.TokenRefreshed, {
      userId: session.userId,
      sessionId: session.sessionId,
      withinGrace,
    });
    return this.issueTokens(session, roles, refreshToken, now);
  }

  /**
   * A session from before roles were kept on sessions: the roles come from the user store once
   * and are recorded on the session, unless a role change recorded others meanwhile (then
   * those). A disabled or deleted user's session ends.
   */
  private async rolesFromStore(session: SessionState): Promise<string[]> {
    for (let attempt = 0; attempt < LOGIN_ATTEMPTS; attempt += 1) {
      const user = await this.liveUser(session);
      if (await this.refreshTokens.fillRoles(session.sessionId, user.roles)) return user.roles;
      const chain = await this.refreshTokens.findChain(session.sessionId);
      if (!chain) throw new UnauthorizedException(INVALID_REFRESH_TOKEN);
      if (chain.roles) return chain.roles;
    }
    throw new ConflictException('The account changed during the refresh; try again');
  }

  /** The session's user from the store; a disabled or deleted user's session ends (401). */
  private async liveUser(session: SessionState): Promise<AuthUserRecord> {
    const user = await this.users.findById(session.userId);
    if (!user || user.disabled) {
      await this.sessions.end(session.sessionId, 'user_disabled');
      throw new UnauthorizedException(INVALID_REFRESH_TOKEN);
    }
    return user;
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
  private async assertBoundDevice(
    session: (SessionState & { revokedAt: Date | null; deviceIdHash: Uint8Array | null }) | null,
    deviceId?: string,
  ): Promise<void> {
    // Unknown tokens and ended sessions are refused by the rotation, as without binding.
    if (!session?.deviceIdHash || !this.isAlive(session, new Date())) return;
    if (isBoundDevice(session.deviceIdHash, deviceId)) return;
    this.events.publish(AuthEvent.TokenReuseDetected, {
      userId: session.userId,
      sessionId: session.sessionId,
      reason: 'device_mismatch',
      accepted: false,
      sessionEnded: true,
    });
    await this.sessions.end(session.sessionId, 'device_mismatch');
    throw new UnauthorizedException(INVALID_REFRESH_TOKEN);
  }

  private isAlive(
    session: { revokedAt: Date | null; expiresAt: Date; lastUsedAt: Date } | null,
    now: Date,
  ): boolean {
    return (
      !!session &&
      !session.revokedAt &&
      session.expiresAt > now &&
      session.lastUsedAt > this.idleSince(now)
    );
  }

  private idleSince(now: Date): Date {
    return new Date(now.getTime() - this.options.refreshIdleTtl * 1000);
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
    session: SessionState,
    roles: string[],
    refreshToken: string | undefined,
    now: Date,
  ): IssuedTokens {
    const idleEnd = session.lastUsedAt.getTime() + this.options.refreshIdleTtl * 1000;
    const sessionEnd = new Date(Math.min(session.expiresAt.getTime(), idleEnd));
    // The access token never outlives its session: expiry needs no revocation.
    const access = this.accessTokens.issue(
      { userId: session.userId, sessionId: session.sessionId, roles },
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

function sameRoles(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((role, i) => role === b[i]);
}
