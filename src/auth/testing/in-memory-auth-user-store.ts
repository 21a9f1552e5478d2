import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import {
  type AuthUserChanges,
  type AuthUserRecord,
  AuthUserStore,
  type NewAuthUser,
} from '../users/auth-user-store';

/**
 * An `AuthUserStore` in memory, for tests: users live in this provider instance and go with it.
 * Emails are compared case-insensitively, and `create` is race-safe like a unique index: of
 * concurrent creations with one email exactly one succeeds, the others get `null`. Records are
 * copied in and out, as a database would, so a test changes a user only through `update`.
 *
 * @example
 * const moduleRef = await Test.createTestingModule({ imports: [AppModule] })
 *   .overrideProvider(AuthUserStore)
 *   .useClass(InMemoryAuthUserStore)
 *   .compile();
 * // or, in a module passed to AuthModule.forRootAsync({ imports: [...] }):
 * // providers: [{ provide: AuthUserStore, useClass: InMemoryAuthUserStore }]
 * @publicApi
 */
@Injectable()
export class InMemoryAuthUserStore extends AuthUserStore {
  private readonly byId = new Map<string, AuthUserRecord>();
  private readonly idByEmail = new Map<string, string>();

  /**
   * The user with this email (compared case-insensitively), or null.
   *
   * @example
   * const user = await store.findByEmail('Ann@Example.com');
   */
  findByEmail(email: string): Promise<AuthUserRecord | null> {
    const id = this.idByEmail.get(normalizeEmail(email));
    return this.findById(id ?? '');
  }

  /**
   * The user with this id, or null.
   *
   * @example
   * const user = await store.findById(userId);
   */
  findById(id: string): Promise<AuthUserRecord | null> {
    const user = this.byId.get(id);
    return Promise.resolve(user ? copyOf(user) : null);
  }

  /**
   * Creates a user with a new UUID; null when the email (in any case) is taken.
   *
   * @example
   * const user = await store.create({ email: 'ann@example.com', passwordHash, roles: ['manager'] });
   */
  create(user: NewAuthUser): Promise<AuthUserRecord | null> {
    const email = normalizeEmail(user.email);
    // Checked and claimed with no await in between: concurrent calls cannot both pass.
    if (this.idByEmail.has(email)) return Promise.resolve(null);
    const record: AuthUserRecord = {
      id: randomUUID(),
      email,
      name: user.name ?? null,
      roles: [...(user.roles ?? [])],
      passwordHash: user.passwordHash,
      disabled: false,
      createdAt: new Date(),
    };
    this.idByEmail.set(email, record.id);
    this.byId.set(record.id, record);
    return Promise.resolve(copyOf(record));
  }

  /**
   * Applies the changes that are not `undefined`; the updated user, or null when there is none.
   *
   * @example
   * await store.update(userId, { roles: ['admin'] });
   */
  update(id: string, changes: AuthUserChanges): Promise<AuthUserRecord | null> {
    const user = this.byId.get(id);
    if (!user) return Promise.resolve(null);
    if (changes.passwordHash !== undefined) user.passwordHash = changes.passwordHash;
    if (changes.disabled !== undefined) user.disabled = changes.disabled;
    if (changes.roles !== undefined) user.roles = [...changes.roles];
    return Promise.resolve(copyOf(user));
  }

  /**
   * Forgets every user, e.g. in a `beforeEach`.
   *
   * @example
   * beforeEach(() => (app.get(AuthUserStore, { strict: false }) as InMemoryAuthUserStore).clear());
   */
  clear(): void {
    this.byId.clear();
    this.idByEmail.clear();
  }
}

function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

function copyOf(user: AuthUserRecord): AuthUserRecord {
  return { ...user, roles: [...user.roles], createdAt: new Date(user.createdAt) };
}
