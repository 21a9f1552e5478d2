import { memoryStorage, type RefreshTokenStorage, secureStoreStorage } from './support/sdk';
import { settle } from './support/fake-clock';
import { EMAIL, PASSWORD } from './support/fake-service';
import { closeClients, setup } from './support/setup';

afterEach(closeClients);

const SECOND = 1000;

/** expo-secure-store's shape over a Map, with writes that take a while (a real Keychain does). */
function fakeSecureStore() {
  const items = new Map<string, string>();
  const pendingWrites: (() => void)[] = [];
  return {
    items,
    pendingWrites,
    /** Writes wait for `flushWrites` when true. */
    slow: false,
    getItemAsync(key: string) {
      return Promise.resolve(items.get(key) ?? null);
    },
    setItemAsync(key: string, value: string) {
      if (!this.slow) {
        items.set(key, value);
        return Promise.resolve();
      }
      return new Promise<void>((resolve) =>
        pendingWrites.push(() => {
          items.set(key, value);
          resolve();
        }),
      );
    },
    deleteItemAsync(key: string) {
      items.delete(key);
      return Promise.resolve();
    },
  };
}

describe('memoryStorage', () => {
  it('keeps one token until cleared', async () => {
    const storage = memoryStorage();
    expect(await storage.get()).toBeNull();
    await storage.set('a');
    await storage.set('b');
    expect(await storage.get()).toBe('b');
    await storage.clear();
    expect(await storage.get()).toBeNull();
  });

  it('is one store per call', async () => {
    const one = memoryStorage();
    await one.set('a');
    expect(await memoryStorage().get()).toBeNull();
  });
});

describe('secureStoreStorage', () => {
  it('maps get/set/clear onto the secure store under its key', async () => {
    const store = fakeSecureStore();
    const storage = secureStoreStorage(store);

    await storage.set('token-1');
    expect(store.items.get('nest-token-auth.refresh')).toBe('token-1');
    expect(await storage.get()).toBe('token-1');
    await storage.clear();
    expect(store.items.size).toBe(0);

    await secureStoreStorage(store, 'my-app.refresh').set('token-2');
    expect([...store.items.keys()]).toEqual(['my-app.refresh']);
  });
});

describe('client SDK: body transport with a secure store (mobile)', () => {
  it('saves the refresh token before login resolves, and the rotated one before the refresh does', async () => {
    const store = fakeSecureStore();
    const { client, service, clock } = setup({ storage: secureStoreStorage(store) });
    store.slow = true;

    let loggedIn = false;
    const login = client.login({ email: EMAIL, password: PASSWORD }).then(() => {
      loggedIn = true;
    });
    await settle();
    expect(loggedIn).toBe(false);
    expect(client.signedIn).toBe(false); // not before the token is safe
    store.pendingWrites.shift()!();
    await login;
    const first = store.items.get('nest-token-auth.refresh');
    expect(first).toMatch(/^refresh-/);

    clock.time += 3600 * SECOND;
    let fetched = false;
    const request = client.fetch('/api/x').then(() => {
      fetched = true;
    });
    await settle();
    expect(service.seen('/auth/refresh')).toHaveLength(1);
    expect(fetched).toBe(false);
    store.pendingWrites.shift()!();
    await request;
    const rotated = store.items.get('nest-token-auth.refresh');
    expect(rotated).toMatch(/^refresh-/); // saved, not merely gone
    expect(rotated).not.toBe(first);
    expect(JSON.parse(service.seen('/auth/refresh')[0].body)).toEqual({ refresh_token: first });
  });

  it('an app restart restores the session from the store, with the device id', async () => {
    const store = fakeSecureStore();
    const deviceId = 'ios-4f1c2a9e-0d7b';
    const first = setup({ storage: secureStoreStorage(store), deviceId, device: 'iPhone' });
    await first.signIn();
    first.client.close(); // the app is killed

    const restarted = setup(
      { storage: secureStoreStorage(store), deviceId, device: 'iPhone' },
      { clock: first.clock, service: first.service },
    );
    const user = await restarted.client.restore();

    expect(user?.email).toBe(EMAIL);
    const [refresh] = first.service.seen('/auth/refresh');
    expect(JSON.parse(refresh.body)).toMatchObject({ device_id: deviceId });
    expect(JSON.parse(first.service.seen('/auth/login')[0].body)).toMatchObject({
      device: 'iPhone',
      device_id: deviceId,
    });
  });

  it('a refresh with another device id is refused: the session ends and the store is emptied', async () => {
    const store = fakeSecureStore();
    const first = setup({ storage: secureStoreStorage(store), deviceId: 'device-original' });
    await first.signIn();

    const copied = setup(
      { storage: secureStoreStorage(store), deviceId: 'device-elsewhere' },
      { clock: first.clock, service: first.service },
    );

    expect(await copied.client.restore()).toBeNull();
    expect(store.items.size).toBe(0);
  });

  it('logout sends the stored refresh token and deletes it', async () => {
    const store = fakeSecureStore();
    const { client, service, signIn } = setup({ storage: secureStoreStorage(store) });
    await signIn();
    const stored = store.items.get('nest-token-auth.refresh');

    await client.logout();

    expect(JSON.parse(service.seen('/auth/logout')[0].body)).toEqual({ refresh_token: stored });
    expect(store.items.size).toBe(0);
    expect(await client.restore()).toBeNull();
  });

  it('a store that fails to save reports it and keeps the new token in memory', async () => {
    let saves = 0;
    const backing = memoryStorage();
    const flaky: RefreshTokenStorage = {
      get: () => backing.get(),
      set: (token) => {
        saves += 1;
        return saves === 2 ? Promise.reject(new Error('keychain locked')) : backing.set(token);
      },
      clear: () => backing.clear(),
    };
    const { client, service, clock, errors, signIn } = setup({ storage: flaky });
    await signIn();

    clock.time += 3600 * SECOND;
    expect((await client.fetch('/api/x')).status).toBe(200); // refresh 1: the save fails
    expect(errors).toEqual([new Error('keychain locked')]);
    clock.time += 3600 * SECOND;
    expect((await client.fetch('/api/x')).status).toBe(200); // refresh 2 uses the unsaved token

    expect(service.reuses).toBe(0);
    const presented = service
      .seen('/auth/refresh')
      .map((request) => (JSON.parse(request.body) as { refresh_token: string }).refresh_token);
    expect(new Set(presented).size).toBe(2);
    const saved = await backing.get();
    expect(saved).toMatch(/^refresh-/);
    expect(presented).not.toContain(saved); // the newest one, saved once the store worked again
  });
});
