import { FakeClock, settle } from './support/fake-clock';
import { FakeLocks } from './support/fake-locks';
import { FakeService } from './support/fake-service';
import { bearerOf, closeClients, setup } from './support/setup';

afterEach(closeClients);

const SECOND = 1000;
let channel = 0;

/** Two tabs of one browser: one cookie jar, one clock, Web Locks, Node's BroadcastChannel. */
function twoTabs(options: { crossTab?: boolean } = {}) {
  const locks = new FakeLocks();
  channel += 1;
  const shared = { transport: 'cookie' as const, locks, name: `test-${channel}`, ...options };
  const a = setup(shared);
  const b = a.another();
  return { a, b, locks, clock: a.clock, service: a.service };
}

describe('client SDK: tabs', () => {
  it('a tab that logs in shares its access token: the other tab is signed in too', async () => {
    const { a, b, service } = twoTabs();

    await a.signIn();
    await settle();

    expect(b.client.signedIn).toBe(true);
    expect(b.states).toEqual([true]);
    expect(await bearerOf(b.client, service)).toBe(await bearerOf(a.client, service));
  });

  it('when both timers fire, one tab refreshes and the other adopts its token', async () => {
    const { a, b, clock, service, locks } = twoTabs();
    await a.signIn();
    await settle();
    const before = await bearerOf(a.client, service);
    const lockName = `auth-refresh:test-${channel}`;
    const grantsBefore = locks.grants.get(lockName)!;

    await clock.advance(871 * SECOND);

    // Both tabs took the lock in turn; only the first refreshed.
    expect(locks.grants.get(lockName)! - grantsBefore).toBe(2);
    expect(service.seen('/auth/refresh')).toHaveLength(1);
    expect(service.reuses).toBe(0);
    const after = await bearerOf(a.client, service);
    expect(after).not.toBe(before);
    expect(await bearerOf(b.client, service)).toBe(after);
    // Both keep refreshing together, still one refresh per round.
    await clock.advance(870 * SECOND);
    expect(service.seen('/auth/refresh')).toHaveLength(2);
    expect(service.reuses).toBe(0);
  });

  it('a tab waiting for the lock adopts the token it receives and does not refresh', async () => {
    const { a, b, clock, service, locks } = twoTabs();
    await a.signIn();
    await settle();
    clock.time += 3600 * SECOND; // the computer slept: both tokens expired, no timer ran
    const grantsBefore = locks.grants.get(`auth-refresh:test-${channel}`)!;

    const responses = await Promise.all([
      ...Array.from({ length: 5 }, () => a.client.fetch('/api/x')),
      ...Array.from({ length: 5 }, () => b.client.fetch('/api/x')),
    ]);

    expect(responses.map((response) => response.status)).toEqual(Array(10).fill(200));
    expect(locks.grants.get(`auth-refresh:test-${channel}`)! - grantsBefore).toBe(2);
    expect(service.seen('/auth/refresh')).toHaveLength(1);
    expect(service.reuses).toBe(0);
    expect(new Set(service.seen('/api/x').map((request) => request.bearer)).size).toBe(1);
  });

  it('without coordination the second tab presents the rotated cookie (what the lock prevents)', async () => {
    const { a, b, clock, service } = twoTabs({ crossTab: false });
    await a.signIn();
    await b.client.restore();
    clock.time += 3600 * SECOND;

    await Promise.all([a.client.fetch('/api/x'), b.client.fetch('/api/x')]);

    expect(service.reuses).toBe(1);
  });

  it('logging out in one tab signs every tab out', async () => {
    const { a, b } = twoTabs();
    await a.signIn();
    await settle();

    await a.client.logout();
    await settle();

    expect(b.client.signedIn).toBe(false);
    expect(b.ended).toEqual(['logout']);
    expect(b.states).toEqual([true, false]);
  });

  it('a refresh refused in one tab signs every tab out, and the other does not try again', async () => {
    const { a, b, clock, service } = twoTabs();
    await a.signIn();
    await settle();
    service.revokeAllSessions();

    await clock.advance(871 * SECOND);

    expect(service.seen('/auth/refresh')).toHaveLength(1);
    expect(a.ended).toEqual(['revoked']);
    expect(b.ended).toEqual(['revoked']);
    expect(a.client.signedIn || b.client.signedIn).toBe(false);
  });

  it('an idle tab adopts a newer token and moves its own refresh', async () => {
    const { a, b, clock, service } = twoTabs();
    await a.signIn();
    await settle();

    await clock.advance(600 * SECOND);
    await a.client.logout(); // signs both out
    await a.signIn(); // a new session: B adopts its token and its later schedule
    await settle();

    await clock.advance(869 * SECOND);
    expect(service.seen('/auth/refresh')).toHaveLength(0);
    await clock.advance(2 * SECOND);
    expect(service.seen('/auth/refresh')).toHaveLength(1);
    expect(b.client.signedIn).toBe(true);
  });
});

describe('client SDK: cross-tab defaults', () => {
  const navigatorDescriptor = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
  afterEach(() => {
    if (navigatorDescriptor) Object.defineProperty(globalThis, 'navigator', navigatorDescriptor);
    else delete (globalThis as { navigator?: unknown }).navigator;
  });

  function withPlatformLocks() {
    Object.defineProperty(globalThis, 'navigator', {
      value: { locks: new FakeLocks() },
      configurable: true,
      writable: true,
    });
    channel += 1;
    const clock = new FakeClock();
    return { clock, service: new FakeService(clock), name: `defaults-${channel}` };
  }

  it('the cookie transport uses navigator.locks and BroadcastChannel when they exist', async () => {
    const { clock, service, name } = withPlatformLocks();
    const a = setup({ transport: 'cookie', name }, { clock, service });
    const b = a.another();

    await a.signIn();
    await settle();

    expect(b.client.signedIn).toBe(true);
  });

  it('the body transport does not (each client has its own storage) unless asked', async () => {
    const { clock, service, name } = withPlatformLocks();
    const a = setup({ transport: 'body', name }, { clock, service });
    const b = a.another();

    await a.signIn();
    await settle();

    expect(b.client.signedIn).toBe(false);
  });
});
