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
  [AuthEvent.TokenReuseDetected]: { userId: string; sessionId: string; reason: TokenReuseReason };
  [AuthEvent.SessionRevoked]: { userId: string; sessionId: string; reason: SessionEndReason };
  [AuthEvent.PasswordChanged]: { userId: string; endedSessions: number };
  [AuthEvent.UserDisabled]: { userId: string; byUserId: string; endedSessions: number };
}

export type AuthEventName = keyof AuthEventPayloads;
