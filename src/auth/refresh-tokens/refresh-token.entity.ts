import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A refresh token issued before sessions kept their chain (releases before generations), kept
 * only as the SHA-256 of its value; it refreshes once into the session's chain. New sessions
 * write no rows here.
 */
@Entity({ name: 'auth_refresh_tokens' })
export class RefreshToken {
  @PrimaryColumn('uuid')
  id!: string;

  @Index()
  @Column('uuid', { name: 'session_id' })
  sessionId!: string;

  @Index({ unique: true })
  @Column('bytea', { name: 'token_hash' })
  tokenHash!: Buffer;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  /** Set when the token was exchanged for a new one; presenting it again is reuse. */
  @Column('timestamptz', { name: 'rotated_at', nullable: true })
  rotatedAt!: Date | null;
}
