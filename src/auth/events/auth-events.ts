/** Why a session ended. */
export type SessionEndReason =
  | 'logout'
  | 'logout_all'
  | 'session_deleted'
  | 'password_changed'
  | 'user_disabled'
  | 'reuse_detected'
  | 'device_mismatch';

/**
 * What gave a stolen refresh token away: a rotated token presented after the grace window, or
 * (with `refreshBinding: 'device'`) a refresh without the device id its session is bound to.
 */
export type TokenReuseReason = 'rotated_token' | 'device_mismatch';

/**
 * Which earlier token of a chain was presented, so that an operator can tell a flaky network
 * (the predecessor again within the grace window: accepted, the same successor answered) from a
 * theft (the predecessor after the window, an older generation: the session ends) and from a
 * token of a session that had already ended (refused, nothing more to end).
 */
export type TokenReuseKind =
  'predecessor_within_grace' | 'predecessor_after_grace' | 'older_generation' | 'ended_session';

/** Why a login failed. Never shown to the client, which always sees the same 401. */
export type LoginFailureReason = 'unknown_email' | 'wrong_password' | 'user_disabled';

/**
 * Events the module emits through `@nestjs/event-emitter`, by name, when the app imports
 * `EventEmitterModule.forRoot()` (every event is logged either way). A host subscribes with
 * `@OnEvent(AuthEvent.LoginFailed)`; the payloads never carry passwords or token values.
 */
export const AuthEvent = {
  LoginSucceeded: 'login.succeeded',
  LoginFailed: 'login.failed',
  TokenRefreshed: 'token.refreshed',
  TokenReuseDetected: 'token.reuse_detected',
  SessionRevoked: 'session.revoked',
  PasswordChanged: 'password.changed',
  UserDisabled: 'user.disabled',
} as const;

/** The payload of each event, by name: `AuthEventPayloads['login.failed']`. */
export interface AuthEventPayloads {
  [AuthEvent.LoginSucceeded]: {
    userId: string;
    sessionId: string;
    ip: string | null;
    userAgent: string | null;
  };
  [AuthEvent.LoginFailed]: { email: string; reason: LoginFailureReason; ip: string | null };
  /** `withinGrace`: a rotated token presented again inside the grace window. */
  [AuthEvent.TokenRefreshed]: { userId: string; sessionId: string; withinGrace: boolean };
  /**
   * A refresh token presented again, or away from its device. For `rotated_token`: `kind`,
   * the generation presented and the session's current one (0 is a token from before
   * generations), and the milliseconds since the session's last rotation; `accepted` is true
   * only for the predecessor within the grace window, and `sessionEnded` when this ended it.
   */
  [AuthEvent.TokenReuseDetected]: {
    userId: string;
    sessionId: string;
    reason: TokenReuseReason;
    kind?: TokenReuseKind;
    presentedGeneration?: number;
    currentGeneration?: number | null;
    msSinceRotation?: number | null;
    accepted: boolean;
    sessionEnded: boolean;
  };
  [AuthEvent.SessionRevoked]: { userId: string; sessionId: string; reason: SessionEndReason };
  [AuthEvent.PasswordChanged]: { userId: string; endedSessions: number };
  [AuthEvent.UserDisabled]: { userId: string; byUserId: string; endedSessions: number };
}

/** The name of an event the module emits. */
export type AuthEventName = keyof AuthEventPayloads;
