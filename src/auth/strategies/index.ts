/**
 * `nest-token-auth/passport`: the `'jwt'` passport strategy, for hosts that guard routes with
 * `AuthGuard('jwt')` from `@nestjs/passport` (install `@nestjs/passport`, `passport` and
 * `passport-jwt`). The module does not register it itself: passport's strategy registry is
 * process-wide and a host may have its own `'jwt'`. Add `JwtStrategy` to the providers of a
 * module that imports `AuthModule`.
 */
export { JwtStrategy } from './jwt.strategy';
