import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
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
    if (changes.disabled || changes.roles) {
      // One transaction: the change is recorded (logins racing it read the user again) and the
      // sessions end, or carry the new roles from their next refresh. A disable ends them also
      // when the user was disabled already: a session that slipped through ends now.
      const endedSessions = await this.sessions.recordUserChange(before.id, {
        roles: changes.roles ? user.roles : undefined,
        end: changes.disabled ? { reason: 'user_disabled' } : undefined,
      });
      if (changes.disabled && !before.disabled) {
        this.events.publish(AuthEvent.UserDisabled, {
          userId: before.id,
          byUserId: admin.id,
          endedSessions,
        });
      }
    }
    return toPublicUser(user);
  }
}
