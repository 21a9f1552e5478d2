import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';
import { seedAccount } from './accounts/seed-account';

/** `SEED_EMAIL=... SEED_PASSWORD=... SEED_ROLES=manager npm run seed` */
async function seed(): Promise<void> {
  const { SEED_EMAIL: email, SEED_PASSWORD: password, SEED_ROLES: roles = '' } = process.env;
  if (!email || !password) throw new Error('Set SEED_EMAIL and SEED_PASSWORD.');
  const app = await NestFactory.createApplicationContext(AppModule, { logger: ['error'] });
  try {
    const account = await seedAccount(app, {
      email,
      password,
      roles: roles.split(',').filter(Boolean),
    });
    console.log(`seeded ${account.email} (${account.id}) roles=${account.roles.join(',')}`);
  } finally {
    await app.close();
  }
}
seed().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
