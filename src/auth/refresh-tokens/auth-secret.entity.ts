import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A secret the module generated for itself (the refresh-token key when none is configured). */
@Entity({ name: 'auth_secrets' })
export class AuthSecret {
  @PrimaryColumn('text')
  name!: string;

  @Column('bytea')
  value!: Buffer;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;
}
