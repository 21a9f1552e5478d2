// First: sizes the libuv pool (argon2 runs there) before anything can start it.
import './thread-pool';
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { AppModule } from './app.module';
import { createApp } from './app.setup';
import { loadConfiguration } from './config/configuration';
import { ConfigurationError } from './config/env.validation';

async function bootstrap(): Promise<void> {
  const { app: config } = loadConfiguration();
  const app = await createApp(AppModule.forRoot(), {
    logger: 'pino',
    corsOrigins: config.corsOrigins,
  });
  await app.listen(config.port, config.host);
  new Logger('Bootstrap').log(`nest-token-auth ready on http://${config.host}:${config.port}`);
}

bootstrap().catch((error: unknown) => {
  if (error instanceof ConfigurationError) {
    console.error(error.message);
  } else {
    console.error('nest-token-auth failed to start:', error);
  }
  process.exit(1);
});
