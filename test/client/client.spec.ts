import { AuthError, createAuthClient, memoryStorage } from './support/sdk';
import { BASE_URL, EMAIL, PASSWORD } from './support/fake-service';
import { closeClients, setup } from './support/setup';

afterEach(closeClients);

describe('client SDK: sign-in and requests', () => {
  it('logs in, then loads the user with the new access token', async () => {
    const { client, service, states } = setup({ device: 'laptop', deviceId: 'device-0123456789' });

    const user = await client.login({ email: EMAIL, password: PASSWORD });

    expect(user).toMatchObject({ id: 'user-1', email: EMAIL });
    expect(client.signedIn).toBe(true);
    expect(states).toEqual([true]);
    const [login] = service.seen('/auth/login');
    expect(JSON.parse(login.body)).toEqual({
      email: EMAIL,
      password: PASSWORD,
      device: 'laptop',
      device_id: 'device-0123456789',
    });
    expect(login.headers.get('content-type')).toBe('application/json');
    expect(service.seen('/auth/me')[0].bearer).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
  });

  it('rejects a failed login with AuthError carrying the status and the service message', async () => {
    const { client } = setup();

    const failure = client.login({ email: EMAIL, password: 'wrong password' });

    await expect(failure).rejects.toBeInstanceOf(AuthError);
    await expect(failure).rejects.toMatchObject({
      status: 401,
      code: 'Invalid email or password',
    });
    expect(client.signedIn).toBe(false);
  });

  it('registers without signing in', async () => {
    const { client, service } = setup();

    const user = await client.register({ email: 'bob@example.com', password: PASSWORD });

    expect(user.email).toBe('bob@example.com');
    expect(client.signedIn).toBe(false);
    expect(JSON.parse(service.seen('/auth/register')[0].body)).toEqual({
      email: 'bob@example.com',
      password: PASSWORD,
    });
  });

  it('fetch: appends relative URLs to baseUrl and attaches the bearer token', async () => {
    const { client, service, signIn } = setup();
    await signIn();

    const response = await client.fetch('/api/orders?page=2', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-trace': 'abc' },
      body: JSON.stringify({ item: 42 }),
    });

    expect(response.status).toBe(200);
    const [sent] = service.seen('/api/orders');
    expect(sent.bearer).toBe(service.seen('/auth/me')[0].bearer);
    expect(sent.headers.get('x-trace')).toBe('abc');
    expect(sent.body).toBe('{"item":42}');
  });

  it('fetch: leaves an Authorization header set by the caller alone', async () => {
    const { client, service, signIn } = setup();
    await signIn();

    await client.fetch('/api/x', { headers: { authorization: 'Bearer mine' } });

    expect(service.seen('/api/x')[0].bearer).toBe('mine');
  });

  it('fetch: never sends the token to other origins unless apiOrigins names them', async () => {
    const { service } = setup();
    const elsewhere: Request[] = [];
    const routed = (input: RequestInfo | URL, init?: RequestInit) => {
      const request = new Request(input, init);
      if (request.url.startsWith(BASE_URL)) return service.fetch(request);
      elsewhere.push(request);
      return Promise.resolve(new Response('ok'));
    };
    const { client } = setup(
      { fetch: routed, apiOrigins: ['https://api.example.test'] },
      { clock: service.clock, service },
    );
    await client.login({ email: EMAIL, password: PASSWORD });

    await client.fetch('https://cdn.example.test/file.js');
    await client.fetch(new URL('https://api.example.test/orders'));

    expect(elsewhere[0].headers.get('authorization')).toBeNull();
    expect(elsewhere[1].headers.get('authorization')).toMatch(/^Bearer /);
  });

  it('fetch: without a session sends no token and returns the 401 as it is', async () => {
    const { client, service } = setup();

    const response = await client.fetch('/api/private');

    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
    expect(service.seen('/api/private')[0].bearer).toBeNull();
    expect(service.seen('/auth/refresh')).toHaveLength(0);
  });

  it('keeps a base path of baseUrl', async () => {
    const seen: string[] = [];
    const client = createAuthClient({
      baseUrl: 'https://example.test/api/',
      transport: 'body',
      fetch: (input, init) => {
        seen.push(new Request(input, init).url);
        return Promise.resolve(new Response(null, { status: 401 }));
      },
    });

    await client.fetch('/demo/public');
    await expect(client.register({ email: EMAIL, password: PASSWORD })).rejects.toThrow(AuthError);

    expect(seen).toEqual([
      'https://example.test/api/demo/public',
      'https://example.test/api/auth/register',
    ]);
    client.close();
  });

  it('explains a missing absolute baseUrl outside a browser (when used, not when created)', async () => {
    const client = createAuthClient({ baseUrl: '', transport: 'body' }); // server-side rendering

    await expect(client.fetch('/api/x')).rejects.toThrow(/baseUrl must be an absolute URL/);
    await expect(client.login({ email: EMAIL, password: PASSWORD })).rejects.toThrow(
      /baseUrl must be an absolute URL/,
    );
    client.close();
  });

  it('me, sessions and revokeSession of another session keep the session', async () => {
    const { client, service, signIn } = setup();
    await signIn();
    await setup({}, { clock: service.clock, service }).signIn(); // a second device

    const sessions = await client.sessions();
    expect(sessions).toHaveLength(2);
    const other = sessions.find((session) => !session.current)!;
    await client.revokeSession(other.id);

    expect(client.signedIn).toBe(true);
    expect(await client.sessions()).toHaveLength(1);
    await expect(client.revokeSession(other.id)).rejects.toMatchObject({ status: 404 });
  });

  it('revoking the current session signs out', async () => {
    const { client, ended, signIn } = setup();
    await signIn();
    const current = (await client.sessions()).find((session) => session.current)!;

    await client.revokeSession(current.id);

    expect(client.signedIn).toBe(false);
    expect(ended).toEqual(['logout']);
  });

  it('logout ends the session on the server and here, with its refresh token and bearer', async () => {
    const storage = memoryStorage();
    const { client, service, ended, states, signIn } = setup({ storage });
    await signIn();
    const refreshToken = await storage.get();

    await client.logout();

    const [logout] = service.seen('/auth/logout');
    expect(JSON.parse(logout.body)).toEqual({ refresh_token: refreshToken });
    expect(logout.bearer).not.toBeNull();
    expect(client.signedIn).toBe(false);
    expect(await storage.get()).toBeNull();
    expect(ended).toEqual(['logout']);
    expect(states).toEqual([true, false]);
  });

  it('logout signs out locally even when the service cannot be reached, and says so', async () => {
    const { client, service, ended, signIn } = setup();
    await signIn();
    service.overrides.push((request) => {
      if (request.path === '/auth/logout') throw new TypeError('fetch failed');
      return undefined;
    });

    await expect(client.logout()).rejects.toThrow('fetch failed');

    expect(client.signedIn).toBe(false);
    expect(ended).toEqual(['logout']);
  });

  it('logoutAll ends every session', async () => {
    const { client, service, ended, signIn } = setup();
    await signIn();
    const other = setup({}, { clock: service.clock, service });
    await other.signIn();

    await client.logoutAll();

    expect(client.signedIn).toBe(false);
    expect(ended).toEqual(['logout']);
    expect((await other.client.fetch('/api/x')).status).toBe(401);
  });

  it('cookie transport: the refresh token stays in the cookie, requests opt in with the header', async () => {
    const storage = memoryStorage();
    const { client, service, signIn } = setup({ transport: 'cookie', storage, crossTab: false });
    await signIn();

    expect(service.cookie).toMatch(/^refresh-/);
    expect(await storage.get()).toBeNull();
    service.clock.time += 900_000; // the access token expired while the laptop slept
    await client.fetch('/api/x');
    await client.logout();

    for (const path of ['/auth/login', '/auth/refresh', '/auth/logout']) {
      const [request] = service.seen(path);
      expect(request.headers.get('auth-transport')).toBe('cookie');
      expect(request.credentials).toBe('include');
      expect(request.body).not.toContain('refresh_token');
    }
    expect(service.cookie).toBeNull();
  });

  it('subscribe returns an unsubscribe function', async () => {
    const { client, signIn } = setup();
    const seen: boolean[] = [];
    const unsubscribe = client.subscribe((state) => seen.push(state.signedIn));

    await signIn();
    unsubscribe();
    await client.logout();

    expect(seen).toEqual([true]);
  });
});

describe('client SDK: restore', () => {
  it('is null without a stored refresh token, and asks nothing', async () => {
    const { client, service, ended } = setup();

    expect(await client.restore()).toBeNull();
    expect(service.requests).toHaveLength(0);
    expect(ended).toEqual([]);
  });

  it('is null when the service refuses the cookie, which is not an error', async () => {
    const { client, service, ended, errors } = setup({ transport: 'cookie', crossTab: false });

    expect(await client.restore()).toBeNull();
    expect(service.seen('/auth/refresh')).toHaveLength(1);
    expect(ended).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('signs in again from the cookie after a reload', async () => {
    const first = setup({ transport: 'cookie', crossTab: false });
    await first.signIn();
    first.client.close(); // the page unloads

    const reloaded = setup(
      { transport: 'cookie', crossTab: false },
      { clock: first.clock, service: first.service },
    );
    const user = await reloaded.client.restore();

    expect(user?.email).toBe(EMAIL);
    expect(reloaded.client.signedIn).toBe(true);
    expect(reloaded.states).toEqual([true]);
  });

  it('rejects when the service cannot be reached: the session may still exist', async () => {
    const storage = memoryStorage();
    await storage.set('refresh-stale');
    const { client, service } = setup({
      storage,
      retry: { maxAttempts: 1 },
    });
    service.overrides.push(() => new Response('down', { status: 503 }));

    await expect(client.restore()).rejects.toMatchObject({ status: 503 });
    expect(await storage.get()).toBe('refresh-stale');
  });
});
