import { decodeJwt, me, signUp } from './support/auth-client';
import { createTestApp, type TestApp } from './support/test-app';

// Two apps in one process, each on its own database and so with its own generated key: each
// verifies with its own keys and revocations (no process-wide strategy registry in the way).
describe('two apps in one process', () => {
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    a = await createTestApp();
    b = await createTestApp();
  });
  afterAll(async () => {
    await a.close();
    await b.close();
  });

  it('each accepts its own tokens and refuses the other’s', async () => {
    const onA = await signUp(a);
    const onB = await signUp(b);
    expect(decodeJwt(onA.tokens.access_token).header.kid).not.toBe(
      decodeJwt(onB.tokens.access_token).header.kid,
    );
    await me(a, onA.tokens.access_token).expect(200);
    await me(b, onB.tokens.access_token).expect(200);
    await me(a, onB.tokens.access_token).expect(401);
    await me(b, onA.tokens.access_token).expect(401);
  });
});
