import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The module's record of a user: the version that credential and role changes move. */
@Entity({ name: 'auth_user_state' })
export class UserState {
  @PrimaryColumn('text', { name: 'user_id' })
  userId!: string;

  @Column('bigint', { default: 0 })
  version!: string;
}
