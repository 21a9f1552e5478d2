import {
  type AuthClient,
  type AuthClientOptions,
  createAuthClient,
  memoryStorage,
  type SessionEndReason,
} from './support/sdk';
import { PASSWORD, uniqueEmail } from '../support/auth-client';
import { createListeningTestApp, type ListeningApp } from '../support/listening-app';
import type { TestDatabase } from '../support/test-database';
import { eventually } from '../support/time';

/** Short enough to watch a refresh ahead of expiry happen (at half the lifetime: 2 s). */
const ACCESS_TTL_SECONDS = 4;

describe('client SDK against the service (Node, body transport)', () => {
  let t: ListeningApp & { database: TestDatabase };
  const clients: AuthClient[] = [];

  beforeAll(async () => {
    t = await createListeningTestApp({
      AUTH_ACCESS_TTL: String(ACCESS_TTL_SECONDS),
      // Binds the sessions whose login carried a device_id (the mobile case below) to it.
      AUTH_REFRESH_BINDING: 'device',
    });
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    await t.close();
  });

  /** A client that records `METHOD /path` of every request it sends. */
  function client(options: Partial<AuthClientOptions> = {}) {
    const requests: string[] = [];
    const ended: SessionEndReason[] = [];
    const errors: unknown[] = [];
    const storage = options.storage ?? memoryStorage();
    const sdk = createAuthClient({
      baseUrl: t.issuer,
      transport: 'body',
      fetch: (input, init) => {
        const request = new Request(input, init);
        requests.push(`${request.method} ${new URL(request.url).pathname}`);
        return fetch(request);
      },
      onSessionEnded: (reason) => ended.push(reason),
      onError: (error) => errors.push(error),
      ...options,
      storage,
    });
    clients.push(sdk);
    return { sdk, requests, ended, errors, storage };
  }

  it('login, fetch, refresh ahead of expiry, sessions, revokeSession, logoutAll', async () => {
    const email = uniqueEmail('sdk');
    const laptop = client({ device: 'laptop' });
    await laptop.sdk.register({ email, password: PASSWORD, name: 'Ann' });
    expect(laptop.sdk.signedIn).toBe(false);

    const user = await laptop.sdk.login({ email, password: PASSWORD });
    expect(user).toMatchObject({ email, name: 'Ann' });
    expect(laptop.sdk.signedIn).toBe(true);
    expect(Math.abs(laptop.sdk.clockSkewMs!)).toBeLessThan(2000); // one machine, one clock

    const me = await laptop.sdk.fetch('/auth/me');
    expect(me.status).toBe(200);
    expect(((await me.json()) as { email: string }).email).toBe(email);

    // The access token lives 4 s: the client refreshes it 2 s in, with no request asking.
    const loginRefreshToken = await laptop.storage.get();
    await eventually(
      () => Promise.resolve(laptop.requests.filter((r) => r === 'POST /auth/refresh').length >= 2),
      12_000,
    );
    expect(await laptop.storage.get()).not.toBe(loginRefreshToken);
    expect((await laptop.sdk.fetch('/demo/private')).status).toBe(200);
    expect(laptop.errors).toEqual([]);

    const phone = client({ device: 'phone' });
    await phone.sdk.login({ email, password: PASSWORD });
    const sessions = await laptop.sdk.sessions();
    expect(sessions.map((session) => session.device).sort()).toEqual(['laptop', 'phone']);
    expect(sessions.find((session) => session.current)?.device).toBe('laptop');

    await laptop.sdk.revokeSession(sessions.find((session) => !session.current)!.id);
    // The phone's token is refused at once; its refresh token too: it signs out.
    expect((await phone.sdk.fetch('/auth/me')).status).toBe(401);
    expect(phone.sdk.signedIn).toBe(false);
    expect(phone.ended).toEqual(['revoked']);
    expect(await phone.storage.get()).toBeNull();
    expect(laptop.sdk.signedIn).toBe(true);

    await laptop.sdk.logoutAll();
    expect(laptop.sdk.signedIn).toBe(false);
    expect(laptop.ended).toEqual(['logout']);
    expect(await laptop.storage.get()).toBeNull();
    expect(await laptop.sdk.restore()).toBeNull();
  });

  it('restore signs in from a stored refresh token, and logout ends that session', async () => {
    const email = uniqueEmail('sdk');
    const first = client();
    await first.sdk.register({ email, password: PASSWORD });
    await first.sdk.login({ email, password: PASSWORD });
    const stored = await first.storage.get();
    first.sdk.close(); // the process exits

    const storage = memoryStorage();
    await storage.set(stored!);
    const restarted = client({ storage });
    expect((await restarted.sdk.restore())?.email).toBe(email);

    await restarted.sdk.logout();
    expect(restarted.sdk.signedIn).toBe(false);
    const again = client({ storage: memoryStorage() });
    await again.storage.set(stored!);
    expect(await again.sdk.restore()).toBeNull();
  });

  it('mobile: the session is bound to the deviceId; the refresh token alone is not enough', async () => {
    const email = uniqueEmail('sdk');
    const deviceId = 'ios-4f1c2a9e-0d7b-4c55';
    const phone = client({ deviceId, device: 'iPhone' });
    await phone.sdk.register({ email, password: PASSWORD });
    await phone.sdk.login({ email, password: PASSWORD });
    const stored = await phone.storage.get();
    phone.sdk.close();

    const restarted = client({ deviceId, storage: phone.storage });
    expect((await restarted.sdk.restore())?.email).toBe(email);
    restarted.sdk.close();

    // The refresh token copied to another device, without the id in the Keychain.
    const thief = client({ deviceId: 'android-ffffffff-0000' });
    await thief.storage.set((await phone.storage.get())!);
    expect(await thief.sdk.restore()).toBeNull();
    expect(stored).not.toBe(await phone.storage.get());
    // The server ended the session: the phone's own token stops working too.
    expect(await client({ deviceId, storage: phone.storage }).sdk.restore()).toBeNull();
  });

  it('answers a wrong password with AuthError 401', async () => {
    const sdk = client().sdk;
    await expect(
      sdk.login({ email: uniqueEmail('nobody'), password: PASSWORD }),
    ).rejects.toMatchObject({ name: 'AuthError', status: 401 });
  });
});
