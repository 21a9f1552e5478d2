import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** One login on one device. Every refresh token belongs to exactly one session. */
@Entity({ name: 'auth_sessions' })
export class Session {
  @PrimaryColumn('uuid')
  id!: string;

  /** The user's id in the host's user store (text, so any id type fits). */
  @Index()
  @Column('text', { name: 'user_id' })
  userId!: string;

  @Column('text', { nullable: true })
  device!: string | null;

  /** SHA-256 of the `device_id` the login carried; null when it carried none. */
  @Column('bytea', { name: 'device_id_hash', nullable: true })
  deviceIdHash!: Buffer | null;

  @Column('text', { name: 'user_agent', nullable: true })
  userAgent!: string | null;

  @Column('text', { nullable: true })
  ip!: string | null;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  /** Moves on every refresh; the inactivity lifetime counts from here. */
  @Column('timestamptz', { name: 'last_used_at' })
  lastUsedAt!: Date;

  /** Absolute end, fixed at login. */
  @Column('timestamptz', { name: 'expires_at' })
  expiresAt!: Date;

  @Column('timestamptz', { name: 'revoked_at', nullable: true })
  revokedAt!: Date | null;

  @Column('text', { name: 'revoked_reason', nullable: true })
  revokedReason!: string | null;
}
