/** A user as the auth module needs to see it. */
export interface AuthUserRecord {
  id: string;
  /** Lower-case email. */
  email: string;
  name: string | null;
  roles: string[];
  /** argon2id PHC string. */
  passwordHash: string;
  disabled: boolean;
  createdAt: Date;
}

/** Fields the auth module changes on an existing user. */
export interface AuthUserChanges {
  passwordHash?: string;
  disabled?: boolean;
  roles?: string[];
}

/** A user the module asks the store to create (registration, the bootstrap admin). */
export interface NewAuthUser {
  /** Already lower-cased and trimmed. */
  email: string;
  passwordHash: string;
  name?: string | null;
  roles?: string[];
}

/**
 * The port through which the auth module reads and writes users. A host app binds it to its
 * own user storage: `{ provide: AuthUserStore, useClass: MyUserStore }`, exported from a
 * module passed in `AuthModule.forRootAsync({ imports: [...] })`.
 */
export abstract class AuthUserStore {
  /** The user with this email (already lower-cased), or null. */
  abstract findByEmail(email: string): Promise<AuthUserRecord | null>;
  /** The user with this id, or null. */
  abstract findById(id: string): Promise<AuthUserRecord | null>;
  /** Creates a user; null when the email is already taken (must be race-safe, e.g. a unique index). */
  abstract create(user: NewAuthUser): Promise<AuthUserRecord | null>;
  /** Applies the changes; the updated user, or null when there is no such user. */
  abstract update(id: string, changes: AuthUserChanges): Promise<AuthUserRecord | null>;
}

/** The public view of a user: never a password hash or token material. */
export interface PublicUser {
  id: string;
  email: string;
  name: string | null;
  roles: string[];
  createdAt: string;
}

/** The public view of a stored user, as the module's routes answer it. */
export function toPublicUser(user: AuthUserRecord): PublicUser {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    roles: user.roles,
    createdAt: user.createdAt.toISOString(),
  };
}
