import { Controller, Param, Patch } from '@nestjs/common';
import { ADMIN_ROLE } from '../auth.constants';
import { AuthBody } from '../decorators/auth-body.decorator';
import { AuthRoutes } from '../decorators/auth-routes.decorator';
import { CurrentUser } from '../decorators/current-user.decorator';
import { Roles } from '../decorators/roles.decorator';
import type { AuthPrincipal } from '../interfaces/auth-principal.interface';
import type { PublicUser } from '../users/auth-user-store';
import { UpdateUserDto } from './update-user.dto';
import { UserAdministrationService } from './user-administration.service';

@Controller('admin/users')
@AuthRoutes()
@Roles([ADMIN_ROLE])
export class AdminUsersController {
  constructor(private readonly administration: UserAdministrationService) {}

  @Patch(':id')
  update(
    @CurrentUser() admin: AuthPrincipal,
    @Param('id') userId: string,
    @AuthBody() body: UpdateUserDto,
  ): Promise<PublicUser> {
    return this.administration.update(admin, userId, body);
  }
}
