// The refresh design of the common NestJS tutorials: the refresh token is a JWT signed with a
// string secret, and its argon2 hash is kept on the user row. A refresh verifies the JWT, reads
// the user, argon2-verifies the token against the hash, signs a new pair and stores the argon2
// hash of the new refresh token. Same HTTP shape as ours: POST /auth/refresh {refresh_token}.
// Usage: node dist/bench/apps/tutorial-refresh-app.js (PORT, HOST, DATABASE_URL or
// TUTORIAL_DATA_DIR, TUTORIAL_ARGON2 = library-defaults | owasp, from env)
import 'reflect-metadata';
import {
  Body,
  Controller,
  ForbiddenException,
  Get,
  HttpCode,
  Inject,
  Injectable,
  Module,
  Post,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { JwtModule, JwtService } from '@nestjs/jwt';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Algorithm, hash, verify } from '@node-rs/argon2';
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { AUTH_DEFAULTS } from '../../src/auth/auth.constants';

const AT_SECRET = 'at-secret';
const RT_SECRET = 'rt-secret';

/**
 * `argon2.hash(rt)` in the tutorials uses the `argon2` package's defaults (argon2id, 64 MiB,
 * 3 passes, 4 lanes); `owasp` is our parameters, for a comparison on equal hashing cost.
 */
const ARGON2 =
  process.env.TUTORIAL_ARGON2 === 'owasp'
    ? AUTH_DEFAULTS.passwordHashing
    : { memoryCost: 65_536, timeCost: 3, parallelism: 4 };

const SQL = Symbol('SQL');
type Sql = <T>(text: string, params: unknown[]) => Promise<T[]>;

interface Tokens {
  access_token: string;
  refresh_token: string;
}

@Injectable()
class TutorialAuthService {
  constructor(
    private readonly jwtService: JwtService,
    @Inject(SQL) private readonly sql: Sql,
  ) {}

  /** Fixture, not measured: a user with a fresh session (the tutorial's signup). */
  async signup(email: string): Promise<Tokens> {
    const id = randomUUID();
    await this.sql('INSERT INTO tutorial_users (id, email) VALUES ($1, $2)', [id, email]);
    const tokens = await this.getTokens(id, email);
    await this.updateRtHash(id, tokens.refresh_token);
    return tokens;
  }

  async refreshTokens(rt: string): Promise<Tokens> {
    let payload: { sub: string; email: string };
    try {
      payload = await this.jwtService.verifyAsync(rt, { secret: RT_SECRET });
    } catch {
      throw new ForbiddenException('Access Denied');
    }
    const [user] = await this.sql<{ id: string; email: string; hashed_rt: string | null }>(
      'SELECT id, email, hashed_rt FROM tutorial_users WHERE id = $1',
      [payload.sub],
    );
    if (!user || !user.hashed_rt) throw new ForbiddenException('Access Denied');
    const rtMatches = await verify(user.hashed_rt, rt);
    if (!rtMatches) throw new ForbiddenException('Access Denied');
    const tokens = await this.getTokens(user.id, user.email);
    await this.updateRtHash(user.id, tokens.refresh_token);
    return tokens;
  }

  private async updateRtHash(userId: string, rt: string): Promise<void> {
    const hashedRt = await hash(rt, { algorithm: Algorithm.Argon2id, ...ARGON2 });
    await this.sql('UPDATE tutorial_users SET hashed_rt = $2 WHERE id = $1', [userId, hashedRt]);
  }

  private async getTokens(userId: string, email: string): Promise<Tokens> {
    // jti: two refreshes within one second would otherwise sign the very same token.
    const [at, rt] = await Promise.all([
      this.jwtService.signAsync({ sub: userId, email }, { secret: AT_SECRET, expiresIn: 60 * 15 }),
      this.jwtService.signAsync(
        { sub: userId, email, jti: randomUUID() },
        { secret: RT_SECRET, expiresIn: 60 * 60 * 24 * 7 },
      ),
    ]);
    return { access_token: at, refresh_token: rt };
  }
}

@Controller('auth')
class TutorialAuthController {
  constructor(private readonly authService: TutorialAuthService) {}

  @Post('local/signup')
  @HttpCode(201)
  signup(@Body() body: { email: string }): Promise<Tokens> {
    return this.authService.signup(body.email);
  }

  @Post('refresh')
  @HttpCode(200)
  refresh(@Body() body: { refresh_token: string }): Promise<Tokens> {
    return this.authService.refreshTokens(body.refresh_token);
  }
}

@Controller('health')
class HealthController {
  @Get()
  check(): { status: string } {
    return { status: 'ok' };
  }
}

async function openSql(): Promise<Sql> {
  let sql: Sql;
  if (process.env.DATABASE_URL) {
    const pool = new Pool({ connectionString: process.env.DATABASE_URL });
    sql = async <T>(text: string, params: unknown[]) =>
      (await pool.query(text, params)).rows as T[];
  } else {
    const { PGlite } = await import('@electric-sql/pglite');
    const db = await PGlite.create(process.env.TUTORIAL_DATA_DIR ?? './.data-tutorial');
    sql = async <T>(text: string, params: unknown[]) => (await db.query<T>(text, params)).rows;
  }
  await sql(
    `CREATE TABLE IF NOT EXISTS tutorial_users (
       id uuid PRIMARY KEY, email text UNIQUE NOT NULL, hashed_rt text)`,
    [],
  );
  return sql;
}

async function bootstrap(): Promise<void> {
  const sql = await openSql();
  @Module({
    imports: [JwtModule.register({})],
    controllers: [TutorialAuthController, HealthController],
    providers: [TutorialAuthService, { provide: SQL, useValue: sql }],
  })
  class TutorialModule {}

  const app = await NestFactory.create(TutorialModule, new FastifyAdapter(), {
    logger: ['error', 'warn'],
  });
  await app.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? '127.0.0.1');
  console.log(`tutorial refresh app (argon2 ${JSON.stringify(ARGON2)}) ready`);
}

void bootstrap();
