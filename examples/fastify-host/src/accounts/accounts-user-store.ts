import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import {
  type AuthUserChanges,
  type AuthUserRecord,
  AuthUserStore,
  type NewAuthUser,
} from 'nest-token-auth';
import { randomUUID } from 'node:crypto';
import { Repository } from 'typeorm';
import { Account } from './account.entity.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The auth module's user port over the host's `accounts` table. */
@Injectable()
export class AccountsUserStore extends AuthUserStore {
  constructor(@InjectRepository(Account) private readonly accounts: Repository<Account>) {
    super();
  }

  async findByEmail(email: string): Promise<AuthUserRecord | null> {
    const account = await this.accounts
      .createQueryBuilder('account')
      .where('lower(account.email) = :email', { email: email.toLowerCase() })
      .getOne();
    return account && toRecord(account);
  }

  async findById(id: string): Promise<AuthUserRecord | null> {
    if (!UUID.test(id)) return null;
    const account = await this.accounts.findOneBy({ id });
    return account && toRecord(account);
  }

  async create(user: NewAuthUser): Promise<AuthUserRecord | null> {
    // ON CONFLICT DO NOTHING: a taken email (unique index on lower(email)) inserts no row.
    const result = await this.accounts
      .createQueryBuilder()
      .insert()
      .values({
        id: randomUUID(),
        email: user.email.toLowerCase(),
        displayName: user.name ?? null,
        passwordHash: user.passwordHash,
        roles: user.roles ?? [],
      })
      .orIgnore()
      .returning('id')
      .execute();
    const [inserted] = result.raw as { id: string }[];
    return inserted ? this.findById(inserted.id) : null;
  }

  async update(id: string, changes: AuthUserChanges): Promise<AuthUserRecord | null> {
    if (!UUID.test(id)) return null;
    const patch: Partial<Account> = {};
    if (changes.passwordHash !== undefined) patch.passwordHash = changes.passwordHash;
    if (changes.disabled !== undefined) patch.disabled = changes.disabled;
    if (changes.roles !== undefined) patch.roles = changes.roles;
    if (Object.keys(patch).length > 0) await this.accounts.update({ id }, patch);
    return this.findById(id);
  }
}

function toRecord(account: Account): AuthUserRecord {
  return {
    id: account.id,
    email: account.email,
    name: account.displayName,
    roles: account.roles,
    passwordHash: account.passwordHash,
    disabled: account.disabled,
    createdAt: account.createdAt,
  };
}
