// The guard the NestJS docs teach (docs.nestjs.com, recipes/passport, "Implementing Passport
// JWT" and "Enable authentication globally"): passport-jwt with the secret as a string, tokens
// from @nestjs/jwt, a global guard with @Public(). The bench compares our guard with this one.
// Usage: node dist/bench/apps/docs-guard-app.js fastify|express (PORT, HOST, JWT_SECRET from env)
import 'reflect-metadata';
import {
  Controller,
  type ExecutionContext,
  Get,
  HttpCode,
  Injectable,
  Module,
  Post,
  Request,
  SetMetadata,
} from '@nestjs/common';
import { APP_GUARD, NestFactory, Reflector } from '@nestjs/core';
import { JwtModule, JwtService } from '@nestjs/jwt';
import { AuthGuard, PassportModule, PassportStrategy } from '@nestjs/passport';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { ExtractJwt, Strategy } from 'passport-jwt';

const jwtConstants = { secret: process.env.JWT_SECRET ?? 'DO NOT USE THIS VALUE' };

const IS_PUBLIC_KEY = 'isPublic';
const Public = () => SetMetadata(IS_PUBLIC_KEY, true);

interface JwtPayload {
  sub: string;
  username: string;
}

@Injectable()
class JwtStrategy extends PassportStrategy(Strategy) {
  constructor() {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      ignoreExpiration: false,
      secretOrKey: jwtConstants.secret,
    });
  }

  // The docs' version is `async`; nothing in it awaits.
  validate(payload: JwtPayload) {
    return { userId: payload.sub, username: payload.username };
  }
}

@Injectable()
class JwtAuthGuard extends AuthGuard('jwt') {
  constructor(private reflector: Reflector) {
    super();
  }

  override canActivate(context: ExecutionContext) {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic) return true;
    return super.canActivate(context);
  }
}

@Controller()
class AppController {
  constructor(private jwtService: JwtService) {}

  /** The docs' AuthService.login without the password check (not what is measured). */
  @Public()
  @Post('auth/login')
  @HttpCode(200)
  async login(): Promise<{ access_token: string }> {
    const payload = { sub: '5f0c9d5e-3c1a-4b8e-9f43-0d6c2a1b7e21', username: 'bench' };
    return { access_token: await this.jwtService.signAsync(payload) };
  }

  @Public()
  @Get('demo/public')
  public(): { message: string } {
    return { message: 'Anyone can see this.' };
  }

  @Get('demo/private')
  private(@Request() req: { user: { userId: string } }): { message: string; userId: string } {
    return { message: 'Signed-in users can see this.', userId: req.user.userId };
  }
}

@Module({
  imports: [
    PassportModule,
    // 15 minutes like our access tokens (the docs use 60 s), so tokens outlive a bench run.
    JwtModule.register({ secret: jwtConstants.secret, signOptions: { expiresIn: '15m' } }),
  ],
  controllers: [AppController],
  providers: [JwtStrategy, { provide: APP_GUARD, useClass: JwtAuthGuard }],
})
class AppModule {}

async function bootstrap(): Promise<void> {
  const adapter = process.argv[2] === 'express' ? new ExpressAdapter() : new FastifyAdapter();
  const app = await NestFactory.create(AppModule, adapter, { logger: ['error', 'warn'] });
  await app.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? '127.0.0.1');
  console.log(`docs-guard app (${process.argv[2] ?? 'fastify'}) ready`);
}

void bootstrap();
