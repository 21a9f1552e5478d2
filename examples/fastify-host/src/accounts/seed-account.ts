import type { INestApplicationContext } from '@nestjs/common';
import { AuthUserStore, PasswordHasher, type PublicUser, toPublicUser } from 'nest-token-auth';

export interface SeedAccount {
  email: string;
  password: string;
  name?: string;
  roles?: string[];
}

/**
 * Creates an account with the module's password hasher (argon2id, the module's cost settings),
 * the way an admin script or a test fixture does; the existing one when the email is taken.
 */
export async function seedAccount(
  app: INestApplicationContext,
  account: SeedAccount,
): Promise<PublicUser> {
  const store = app.get(AuthUserStore);
  const email = account.email.trim().toLowerCase();
  const created = await store.create({
    email,
    passwordHash: await app.get(PasswordHasher).hash(account.password),
    name: account.name ?? null,
    roles: account.roles ?? [],
  });
  const user = created ?? (await store.findByEmail(email));
  if (!user) throw new Error(`Could not create or find the account ${email}.`);
  return toPublicUser(user);
}
