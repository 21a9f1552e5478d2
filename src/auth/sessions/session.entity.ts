import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * One login on one device, with its refresh-token chain: only the current and the previous
 * token's hashes are kept, however often it rotates.
 */
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

  /** Generation of the current refresh token (1 at login); null without refresh tokens. */
  @Column('integer', { nullable: true })
  generation!: number | null;

  /** SHA-256 of the current refresh token. */
  @Column('bytea', { name: 'token_hash', nullable: true })
  tokenHash!: Buffer | null;

  /** SHA-256 of the previous refresh token (the grace window's predecessor). */
  @Column('bytea', { name: 'previous_token_hash', nullable: true })
  previousTokenHash!: Buffer | null;

  /** When the previous refresh token was rotated. */
  @Column('timestamptz', { name: 'rotated_at', nullable: true })
  rotatedAt!: Date | null;

  /** The current refresh token, sealed under a key derived from the previous one. */
  @Column('bytea', { name: 'successor_box', nullable: true })
  successorBox!: Buffer | null;

  /** Roles the session's access tokens carry. */
  @Column('text', { array: true, nullable: true })
  roles!: string[] | null;
}
