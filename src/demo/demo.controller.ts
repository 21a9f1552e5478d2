import { Controller, Get } from '@nestjs/common';
import { type AuthPrincipal, CurrentUser, Public, Roles } from '../auth';

/** How a host app protects its routes: public, any signed-in user, admins only. */
@Controller('demo')
export class DemoController {
  @Public()
  @Get('public')
  public(): { message: string } {
    return { message: 'Anyone can see this.' };
  }

  @Get('private')
  private(@CurrentUser() user: AuthPrincipal): { message: string; userId: string } {
    return { message: 'Signed-in users can see this.', userId: user.id };
  }

  @Roles(['admin'])
  @Get('admin')
  admin(@CurrentUser('id') userId: string): { message: string; userId: string } {
    return { message: 'Admins can see this.', userId };
  }
}
