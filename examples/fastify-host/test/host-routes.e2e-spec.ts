import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HOST_ERROR_HEADER } from '../src/http/host-exception.filter.js';
import { createTestApp, http, login, PASSWORD, register, uniqueEmail } from './support.js';

describe("the host's own pipe and filter beside the module's routes", () => {
  let app: NestFastifyApplication;
  let bearer: string;
  let userId: string;

  before(async () => {
    app = await createTestApp();
    const user = await register(app);
    userId = user.id;
    bearer = `Bearer ${(await login(app, user.email)).access_token}`;
  });
  after(async () => {
    await app?.close();
  });

  it("validates and transforms a host route's body with the host's ValidationPipe", async () => {
    const response = await http(app)
      .post('/orders')
      .set('Authorization', bearer)
      .send({ item: 'tea', quantity: '3', coupon: 'FREE' });
    assert.equal(response.status, 201);
    // quantity converted to a number; the unknown field stripped (the host's whitelist).
    assert.deepEqual(response.body, { item: 'tea', quantity: 3, orderedBy: userId });
  });

  it("answers a host route's invalid body in the host's shape, through the host's filter", async () => {
    const response = await http(app)
      .post('/orders')
      .set('Authorization', bearer)
      .send({ item: '', quantity: 1000 });
    assert.equal(response.status, 400);
    assert.equal(response.headers[HOST_ERROR_HEADER], '1');
    const body = response.body as {
      error: string;
      fields: Record<string, string[]>;
      host: boolean;
    };
    assert.equal(body.error, 'invalid_order');
    assert.equal(body.host, true);
    assert.deepEqual(Object.keys(body.fields).sort(), ['item', 'quantity']);
  });

  it("runs the module's guard on host routes; the host's filter marks the 401", async () => {
    const response = await http(app).post('/orders').send({ item: 'tea', quantity: 1 });
    assert.equal(response.status, 401);
    assert.equal(response.headers['www-authenticate'], 'Bearer');
    assert.equal(response.headers[HOST_ERROR_HEADER], '1');
    assert.equal((response.body as { host: boolean }).host, true);
  });

  it("keeps the module's own validation on its routes: unknown fields and bad emails are 400", async () => {
    // The host's pipe, run first on a @Body(), would strip `admin` and log in (200), and answer
    // a bad email as an `invalid_order`: the module's routes read their bodies past it.
    const { email } = await register(app);
    const unknown = await http(app)
      .post('/auth/login')
      .send({ email, password: PASSWORD, admin: true });
    assert.equal(unknown.status, 400);
    assert.match(JSON.stringify(unknown.body), /admin/);

    const badEmail = await http(app)
      .post('/auth/login')
      .send({ email: 'not an email', password: PASSWORD });
    assert.equal(badEmail.status, 400);
    assert.match(JSON.stringify(badEmail.body), /email/);
    assert.notEqual((badEmail.body as { error?: string }).error, 'invalid_order');
  });

  it("keeps the module's JSON-only bodies on its routes (415)", async () => {
    const response = await http(app)
      .post('/auth/login')
      .set('Content-Type', 'text/plain')
      .send('email=a@example.test&password=12345678');
    assert.equal(response.status, 415);
  });

  it('keeps the OAuth error shape (RFC 6749) on /oauth/token, untouched by the host filter', async () => {
    const response = await http(app)
      .post('/oauth/token')
      .type('form')
      .send({ grant_type: 'password', username: uniqueEmail('nobody'), password: PASSWORD });
    assert.equal(response.status, 400);
    assert.deepEqual(Object.keys(response.body as object).sort(), ['error', 'error_description']);
    assert.equal((response.body as { error: string }).error, 'invalid_grant');
    assert.equal(response.headers[HOST_ERROR_HEADER], undefined);
  });

  it("keeps the module's 429 with Retry-After for a locked login", async () => {
    const { email } = await register(app);
    for (let attempt = 0; attempt < 5; attempt++) {
      await http(app).post('/auth/login').send({ email, password: 'wrong password' }).expect(401);
    }
    const locked = await http(app).post('/auth/login').send({ email, password: PASSWORD });
    assert.equal(locked.status, 429);
    assert.match(String(locked.headers['retry-after']), /^\d+$/);
  });
});
