import { type DynamicModule, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule, AuthValidationPipe, LoginAttemptStore } from './auth';
import { type Configuration, loadConfiguration } from './config/configuration';
import { openDatabase } from './database/data-source';
import { DatabaseUnavailableFilter } from './database/database-unavailable.filter';
import { DemoModule } from './demo/demo.module';
import { HealthModule } from './health/health.module';
import { loggingModule } from './logging/logging.module';
import { RateLimitModule } from './rate-limit/rate-limit.module';
import { UsersModule } from './users/users.module';

/** The example host app: configuration, database, AuthModule, users and the demo routes. */
@Module({})
export class AppModule implements OnApplicationShutdown {
  /** `env` defaults to `process.env`; tests pass their own. */
  static forRoot(env: Record<string, string | undefined> = process.env): DynamicModule {
    const configuration = loadConfiguration(env);
    const rateLimit = RateLimitModule.forRoot(configuration.rateLimit);
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot({
          isGlobal: true,
          ignoreEnvFile: true,
          skipProcessEnv: true,
          load: [() => configuration],
        }),
        loggingModule(configuration.app.logLevel),
        // AuthModule's events (AuthEvent) reach @OnEvent listeners through the app's emitter.
        EventEmitterModule.forRoot(),
        TypeOrmModule.forRootAsync({
          inject: [ConfigService],
          useFactory: () => ({}),
          dataSourceFactory: () => openDatabase(configuration.database),
        }),
        rateLimit,
        AuthModule.forRootAsync({
          imports: [UsersModule, rateLimit],
          inject: [ConfigService, LoginAttemptStore],
          useFactory: (config: ConfigService<Configuration, true>, store: LoginAttemptStore) => ({
            ...config.get('auth', { infer: true }),
            loginAttemptStore: store,
          }),
        }),
        UsersModule,
        HealthModule,
        DemoModule,
      ],
      providers: [
        { provide: APP_FILTER, useClass: DatabaseUnavailableFilter },
        { provide: APP_PIPE, useClass: AuthValidationPipe },
      ],
    };
  }

  onApplicationShutdown(signal?: string): void {
    new Logger('Bootstrap').log(`shut down${signal ? ` on ${signal}` : ''}`);
  }
}
