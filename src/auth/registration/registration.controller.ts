import { Controller, Post } from '@nestjs/common';
import { AuthService } from '../auth.service';
import { AuthBody } from '../decorators/auth-body.decorator';
import { AuthRoutes } from '../decorators/auth-routes.decorator';
import { Public } from '../decorators/public.decorator';
import { RegisterDto } from '../dto/credentials.dto';
import type { PublicUser } from '../users/auth-user-store';

/** Public sign-up, a route group of its own so that a host can leave it out. */
@Controller('auth')
@AuthRoutes()
export class RegistrationController {
  constructor(private readonly auth: AuthService) {}

  /** 409 when the email is taken; 403 when `registrationOpen` is false. */
  @Public()
  @Post('register')
  register(@AuthBody() body: RegisterDto): Promise<PublicUser> {
    return this.auth.register(body);
  }
}
