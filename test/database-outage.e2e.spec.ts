import { signUp } from './support/auth-client';
import { TcpProxy } from './support/tcp-proxy';
import { startApp, type TestApp } from './support/test-app';
import { createTestDatabase, type TestDatabase, usingPostgres } from './support/test-database';
import { sleep } from './support/time';

// The embedded database lives in the process: it cannot go away on its own.
(usingPostgres ? describe : describe.skip)(
  'database outage (PostgreSQL behind a TCP proxy)',
  () => {
    let database: TestDatabase;
    let proxy: TcpProxy;
    let t: TestApp;

    beforeAll(async () => {
      database = await createTestDatabase();
      const url = new URL(database.url!);
      proxy = new TcpProxy(url.hostname, Number(url.port || 5432));
      await proxy.open();
      url.hostname = '127.0.0.1';
      url.port = String(proxy.port);
      t = await startApp(database, { DATABASE_URL: url.toString() });
    });
    afterAll(async () => {
      await proxy.open().catch(() => undefined);
      await t.close();
      await proxy.cut();
      await database.drop();
    });

    it('answers 503 while the database is away, keeps guarded routes up, and recovers', async () => {
      const { email, password, tokens } = await signUp(t);
      await t.http().get('/health').expect(200);

      await proxy.cut();

      const started = Date.now();
      const health = await t.http().get('/health');
      expect(health.status).toBe(503);

      const loginDuringOutage = await t.http().post('/auth/login').send({ email, password });
      expect(loginDuringOutage.status).toBe(503);
      expect(loginDuringOutage.headers['retry-after']).toBeDefined();
      expect(JSON.stringify(loginDuringOutage.body)).not.toMatch(/ECONNREFUSED|SELECT|at /);

      const refreshDuringOutage = await t
        .http()
        .post('/auth/refresh')
        .send({ refresh_token: tokens.refresh_token });
      expect(refreshDuringOutage.status).toBe(503);
      expect(Date.now() - started).toBeLessThan(15_000);

      // Verifying an access token needs no database.
      await t
        .http()
        .get('/demo/private')
        .set('Authorization', `Bearer ${tokens.access_token}`)
        .expect(200);

      await proxy.open();
      let recovered = 0;
      for (let attempt = 0; attempt < 20 && recovered !== 200; attempt += 1) {
        recovered = (await t.http().get('/health')).status;
        if (recovered !== 200) await sleep(250);
      }
      expect(recovered).toBe(200);
      await t
        .http()
        .post('/auth/refresh')
        .send({ refresh_token: tokens.refresh_token })
        .expect(200);
    });

    it('answers 503 within 5 s when the database hangs instead of refusing, and recovers', async () => {
      const { email, password, tokens } = await signUp(t);
      proxy.stall();
      try {
        const started = Date.now();
        const login = await t.http().post('/auth/login').send({ email, password });
        expect(login.status).toBe(503);
        expect(Date.now() - started).toBeLessThan(5500);
        await t
          .http()
          .get('/demo/private')
          .set('Authorization', `Bearer ${tokens.access_token}`)
          .expect(200);
      } finally {
        await proxy.cut();
        await proxy.open();
      }
      let recovered = 0;
      for (let attempt = 0; attempt < 40 && recovered !== 200; attempt += 1) {
        const response = await t
          .http()
          .post('/auth/refresh')
          .send({ refresh_token: tokens.refresh_token });
        recovered = response.status;
        if (recovered !== 200) await sleep(250);
      }
      expect(recovered).toBe(200);
    });
  },
);
