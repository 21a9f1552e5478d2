import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { Repository } from 'typeorm';
import {
  type AuthUserChanges,
  type AuthUserRecord,
  AuthUserStore,
  type NewAuthUser,
} from '../auth';
import { User } from './user.entity';

/** The auth module's user port over the `users` table. */
@Injectable()
export class TypeOrmUserStore extends AuthUserStore {
  constructor(@InjectRepository(User) private readonly users: Repository<User>) {
    super();
  }

  findByEmail(email: string): Promise<AuthUserRecord | null> {
    // lower(email): the unique index is on lower(email); `email = $1` would scan the table.
    return this.findOne('lower(email) = $1', email.toLowerCase());
  }

  findById(id: string): Promise<AuthUserRecord | null> {
    if (!isUuid(id)) return Promise.resolve(null);
    return this.findOne('id = $1', id);
  }

  /**
   * One user by an indexed column, in plain SQL: every login and refresh reads one, and
   * building the query and hydrating the entity through TypeORM cost more than the query.
   */
  private async findOne(
    where: 'id = $1' | 'lower(email) = $1',
    value: string,
  ): Promise<AuthUserRecord | null> {
    const rows: Record<string, unknown>[] = await this.users.query(
      `SELECT id, email, name, password_hash, roles, disabled, created_at FROM users WHERE ${where}`,
      [value],
    );
    return rows.length ? this.users.create(rowToUser(rows[0])) : null;
  }

  async create(user: NewAuthUser): Promise<AuthUserRecord | null> {
    // ON CONFLICT DO NOTHING: a taken email (unique index on lower(email)) inserts no row.
    const rows: Record<string, unknown>[] = await this.users
      .createQueryBuilder()
      .insert()
      .values({
        id: randomUUID(),
        email: user.email.toLowerCase(),
        name: user.name ?? null,
        passwordHash: user.passwordHash,
        roles: user.roles ?? [],
      })
      .orIgnore()
      .returning('*')
      .execute()
      .then((result) => result.raw as Record<string, unknown>[]);
    return rows.length ? this.users.create(rowToUser(rows[0])) : null;
  }

  async update(id: string, changes: AuthUserChanges): Promise<AuthUserRecord | null> {
    if (!isUuid(id)) return null;
    const patch = Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined));
    if (Object.keys(patch).length > 0) await this.users.update({ id }, patch);
    return this.users.findOneBy({ id });
  }
}

function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}

function rowToUser(row: Record<string, unknown>): Partial<User> {
  return {
    id: row.id as string,
    email: row.email as string,
    name: row.name as string | null,
    passwordHash: row.password_hash as string,
    roles: row.roles as string[],
    disabled: row.disabled as boolean,
    createdAt: new Date(row.created_at as string),
  };
}
