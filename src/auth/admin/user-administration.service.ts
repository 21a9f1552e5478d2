import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { AuthService } from '../auth.service';
import { AuthEventPublisher } from '../events/auth-event-publisher';
import { AuthEvent } from '../events/auth-events';
import type { AuthPrincipal } from '../interfaces/auth-principal.interface';
import { SessionsService } from '../sessions/sessions.service';
import { AuthUserStore, type PublicUser, toPublicUser } from '../users/auth-user-store';
import type { UpdateUserDto } from './update-user.dto';

/** What an admin may change on a user: disable (ending every session) and roles. */
@Injectable()
export class UserAdministrationService {
  constructor(
    private readonly users: AuthUserStore,
    private readonly sessions: SessionsService,
    private readonly events: AuthEventPublisher,
    private readonly auth: AuthService,
  ) {}

  async update(admin: AuthPrincipal, userId: string, changes: UpdateUserDto): Promise<PublicUser> {
    const before = await this.users.findById(userId);
    if (!before) throw new NotFoundException('No such user');
    // Compared after the lookup: the store may match ids case-insensitively.
    if (changes.disabled && before.id === admin.id) {
      throw new BadRequestException('An admin cannot disable their own account');
    }
    const user = await this.users.update(before.id, {
      disabled: changes.disabled,
      roles: changes.roles,
    });
    if (!user) throw new NotFoundException('No such user');
    if (changes.disabled) {
      // One transaction: the change is recorded (a login racing it reads the user again) and
      // every session ends, also when the user was disabled already: one that slipped through
      // ends now.
      const endedSessions = await this.sessions.endAllForUser(before.id, 'user_disabled');
      if (!before.disabled) {
        this.events.publish(AuthEvent.UserDisabled, {
          userId: before.id,
          byUserId: admin.id,
          endedSessions,
        });
      }
    } else if (changes.roles) {
      // Live sessions carry the new roles from their next refresh; a login racing the change
      // reads the user again.
      await this.auth.syncUser(before.id);
    }
    return toPublicUser(user);
  }
}
