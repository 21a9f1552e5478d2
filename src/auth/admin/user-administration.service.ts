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
    if (changes.disabled && userId === admin.id) {
      throw new BadRequestException('An admin cannot disable their own account');
    }
    const before = await this.users.findById(userId);
    if (!before) throw new NotFoundException('No such user');
    const user = await this.users.update(userId, {
      disabled: changes.disabled,
      roles: changes.roles,
    });
    if (!user) throw new NotFoundException('No such user');
    if (changes.disabled) {
      // Also when it was disabled already: a session that slipped through ends now.
      const endedSessions = await this.sessions.endAllForUser(userId, 'user_disabled');
      if (!before.disabled) {
        this.events.publish(AuthEvent.UserDisabled, { userId, byUserId: admin.id, endedSessions });
      }
    }
    return toPublicUser(user);
  }
}
