import { FakeChannels } from './support/fake-channels';
import { FakeClock, settle } from './support/fake-clock';
import { FakeLocks } from './support/fake-locks';
import { FakeService } from './support/fake-service';
import type { AuthClientOptions } from './support/sdk';
import { bearerOf, closeClients, setup } from './support/setup';

afterEach(closeClients);

const SECOND = 1000;
let channel = 0;

/**
 * Two tabs of one browser: one cookie jar, one clock, Web Locks, a BroadcastChannel (Node's, or
 * FakeChannels when installed). Tab A is created first, so it leads.
 */
function twoTabs(
  options: { crossTab?: boolean } = {},
  locks = new FakeLocks(),
  tabA: Partial<AuthClientOptions> = {},
) {
  channel += 1;
  const name = `test-${channel}`;
  const shared = { transport: 'cookie' as const, locks, name, ...options };
  const a = setup({ ...shared, ...tabA });
  const b = a.another({ timers: a.clock.timers });
  return {
    a,
    b,
    locks,
    clock: a.clock,
    service: a.service,
    refreshLock: `auth-refresh:${name}`,
    leaderLock: `auth-leader:${name}`,
    channelName: `auth-session:${name}`,
  };
}

/** Both tabs send one request each and get answers; the bearer tokens they sent. */
async function bothRequest(tabs: ReturnType<typeof twoTabs>, path = '/api/x') {
  const responses = await Promise.all([tabs.a.client.fetch(path), tabs.b.client.fetch(path)]);
  expect(responses.map((response) => response.status)).toEqual([200, 200]);
  return tabs.service
    .seen(path)
    .slice(-2)
    .map((request) => request.bearer);
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

  it('only the leading tab refreshes ahead of expiry; the other adopts its token', async () => {
    const { a, b, clock, service, locks, refreshLock } = twoTabs();
    await a.signIn();
    await settle();
    const before = await bearerOf(a.client, service);
    const grantsBefore = locks.grants.get(refreshLock)!;

    await clock.advance(871 * SECOND);

    // The leader took the lock and refreshed; the other tab did not even ask for the lock.
    expect(locks.grants.get(refreshLock)! - grantsBefore).toBe(1);
    expect(locks.refusals.get(refreshLock) ?? 0).toBe(0);
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
    const { a, b, clock, service, locks, refreshLock } = twoTabs();
    await a.signIn();
    await settle();
    clock.time += 3600 * SECOND; // the computer slept: both tokens expired, no timer ran
    const grantsBefore = locks.grants.get(refreshLock)!;

    const responses = await Promise.all([
      ...Array.from({ length: 5 }, () => a.client.fetch('/api/x')),
      ...Array.from({ length: 5 }, () => b.client.fetch('/api/x')),
    ]);

    expect(responses.map((response) => response.status)).toEqual(Array(10).fill(200));
    expect(locks.grants.get(refreshLock)! - grantsBefore).toBe(2);
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

describe('client SDK: tabs whose tokens expire together', () => {
  // The lock reaches the waiting tab before the message of the tab that refreshed: Chromium
  // often does this, and a tab that then refreshed again presented the rotated cookie.
  const lockFirst = () => new FakeLocks({ grantBeforeMessages: true });

  it('refresh once per round when their timers are due together, even with the lock arriving before the message', async () => {
    const tabs = twoTabs({}, lockFirst());
    const { a, b, clock, service } = tabs;
    await a.signIn();
    await settle();
    expect(await bearerOf(b.client, service)).toBe(await bearerOf(a.client, service));

    for (let round = 1; round <= 3; round += 1) {
      await clock.advance(870 * SECOND);
      expect(service.seen('/auth/refresh')).toHaveLength(round);
      expect(service.reuses).toBe(0);
      const [fromA, fromB] = await bothRequest(tabs);
      expect(fromB).toBe(fromA);
    }
    expect(a.ended).toEqual([]);
    expect(b.ended).toEqual([]);
  });

  it('refresh once when both are forced to (tokens expired), even with the lock arriving before the message', async () => {
    const tabs = twoTabs({}, lockFirst());
    const { a, clock, service, locks, refreshLock } = tabs;
    await a.signIn();
    await settle();
    clock.time += 3600 * SECOND; // the computer slept: both tokens expired, no timer ran

    const [fromA, fromB] = await bothRequest(tabs);

    expect(service.seen('/auth/refresh')).toHaveLength(1);
    expect(service.reuses).toBe(0);
    expect(fromB).toBe(fromA);
    // The second tab found the lock taken, waited for it, then for the message.
    expect(locks.refusals.get(refreshLock)).toBe(1);
  });

  it('the tab that waited for the lock waits for a late message rather than refresh', async () => {
    const channels = new FakeChannels();
    channels.install();
    try {
      const tabs = twoTabs({}, lockFirst());
      const { a, clock, service } = tabs;
      await a.signIn();
      await settle();
      clock.time += 3600 * SECOND;
      channels.mode = 'hold';

      const requests = bothRequest(tabs);
      await clock.advance(400); // the message is late, but not later than the wait
      expect(service.seen('/auth/refresh')).toHaveLength(1);
      channels.release();
      const [fromA, fromB] = await requests;

      expect(service.seen('/auth/refresh')).toHaveLength(1);
      expect(fromB).toBe(fromA);
    } finally {
      channels.uninstall();
    }
  });

  it('if the message is lost, the waiting tab refreshes by itself after half a second', async () => {
    const channels = new FakeChannels();
    channels.install();
    try {
      const tabs = twoTabs({}, lockFirst());
      const { a, b, clock, service } = tabs;
      await a.signIn();
      await settle();
      clock.time += 3600 * SECOND;
      channels.mode = 'drop';

      const requests = bothRequest(tabs);
      await clock.advance(499);
      expect(service.seen('/auth/refresh')).toHaveLength(1);
      await clock.advance(1);
      const [fromA, fromB] = await requests;

      // With the cookie the first refresh set (the tabs share the cookie jar); had the browser
      // not stored it yet, the rotated one, presented within the service's reuse grace.
      expect(service.seen('/auth/refresh')).toHaveLength(2);
      expect(service.reuses).toBe(0);
      expect(fromB).not.toBe(fromA);
      expect(a.client.signedIn && b.client.signedIn).toBe(true);
    } finally {
      channels.uninstall();
    }
  });

  it('a tab that does not lead refreshes by itself, later, when the leader does not (a frozen tab)', async () => {
    const frozen = new FakeClock(); // the leader's timers never fire
    const tabs = twoTabs({}, new FakeLocks(), { timers: frozen.timers });
    const { a, b, clock, service } = tabs;
    const start = clock.now();
    await a.signIn();
    await settle();

    await clock.advance(884 * SECOND);
    expect(service.seen('/auth/refresh')).toHaveLength(0);
    // Halfway between the leader's time (expiry - 30 s) and the expiry.
    await clock.advance(1 * SECOND);
    expect(service.seen('/auth/refresh').map((request) => request.at - start)).toEqual([
      885 * SECOND,
    ]);
    expect(service.reuses).toBe(0);
    const [fromA, fromB] = await bothRequest(tabs);
    expect(fromA).toBe(fromB);
    expect(b.client.signedIn).toBe(true);
  });

  it('when the leader closes, the next tab leads and refreshes on time', async () => {
    const { a, b, clock, service, locks, leaderLock } = twoTabs();
    const start = clock.now();
    await a.signIn();
    await settle();
    expect(locks.isHeld(leaderLock)).toBe(true);

    a.client.close();
    await clock.advance(871 * SECOND);

    expect(service.seen('/auth/refresh').map((request) => request.at - start)).toEqual([
      870 * SECOND,
    ]);
    expect(locks.isHeld(leaderLock)).toBe(true); // held by B now
    expect(b.client.signedIn).toBe(true);
    b.client.close();
    await settle();
    expect(locks.isHeld(leaderLock)).toBe(false);
  });

  it('a message older than the token a tab holds is ignored, even with a later expiry', async () => {
    const { a, b, clock, service, channelName } = twoTabs();
    await a.signIn();
    await settle();
    await clock.advance(871 * SECOND); // a refresh: the tokens of the login are old now
    const current = await bearerOf(b.client, service);
    const late = new BroadcastChannel(channelName);
    try {
      late.postMessage({
        protocol: 'nest-token-auth/1',
        type: 'token',
        accessToken: 'an-older-token',
        expiresAt: clock.now() + 3600 * SECOND,
        refreshAt: clock.now() + 3000 * SECOND,
        sessionId: 'session-1',
        sessionExpiresAt: null,
        clockSkewMs: 0,
        generation: 1,
      });
      await settle();
    } finally {
      late.close();
    }

    expect(await bearerOf(a.client, service)).toBe(current);
    expect(await bearerOf(b.client, service)).toBe(current);
  });
});

describe('client SDK: the leader tab and the back/forward cache', () => {
  const page = new EventTarget();
  beforeEach(() => {
    Object.assign(globalThis, {
      document: {},
      addEventListener: page.addEventListener.bind(page),
      removeEventListener: page.removeEventListener.bind(page),
    });
  });
  afterEach(() => {
    const scope = globalThis as Record<string, unknown>;
    delete scope.document;
    delete scope.addEventListener;
    delete scope.removeEventListener;
  });
  const pageEvent = (type: string, persisted: boolean) =>
    Object.assign(new Event(type), { persisted });

  it('gives the leadership up when the page enters the cache, and asks again when it is shown', async () => {
    const locks = new FakeLocks();
    channel += 1;
    const { client } = setup({ transport: 'cookie', locks, name: `page-${channel}` });
    const leaderLock = `auth-leader:page-${channel}`;
    await settle();
    expect(locks.isHeld(leaderLock)).toBe(true);

    page.dispatchEvent(pageEvent('pagehide', true));
    await settle();
    expect(locks.isHeld(leaderLock)).toBe(false);

    page.dispatchEvent(pageEvent('pageshow', true));
    await settle();
    expect(locks.isHeld(leaderLock)).toBe(true);

    client.close();
    await settle();
    expect(locks.isHeld(leaderLock)).toBe(false);
    page.dispatchEvent(pageEvent('pageshow', true)); // closed: no longer listening
    await settle();
    expect(locks.isHeld(leaderLock)).toBe(false);
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
