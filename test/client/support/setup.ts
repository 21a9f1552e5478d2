import {
  type AuthClient,
  type AuthClientOptions,
  createAuthClient,
  type SessionEndReason,
} from './sdk';
import { FakeClock } from './fake-clock';
import { BASE_URL, EMAIL, FakeService, PASSWORD } from './fake-service';

const open: AuthClient[] = [];

/** Closes every client `setup` made; call from afterEach. */
export function closeClients(): void {
  for (const client of open.splice(0)) client.close();
}

export interface Setup {
  clock: FakeClock;
  service: FakeService;
  client: AuthClient;
  ended: SessionEndReason[];
  errors: unknown[];
  states: boolean[];
  /** Another client (a second tab) on the same service, clock and browser. */
  another: (options?: Partial<AuthClientOptions>) => Omit<Setup, 'another' | 'signIn'>;
  signIn: () => Promise<void>;
}

/** A client on a fake service and a fake clock; body transport unless `options` say otherwise. */
export function setup(
  options: Partial<AuthClientOptions> = {},
  existing?: { clock: FakeClock; service: FakeService },
): Setup {
  const clock = existing?.clock ?? new FakeClock();
  const service = existing?.service ?? new FakeService(clock);
  const make = (extra: Partial<AuthClientOptions>) => {
    const ended: SessionEndReason[] = [];
    const errors: unknown[] = [];
    const states: boolean[] = [];
    const client = createAuthClient({
      baseUrl: BASE_URL,
      transport: 'body',
      fetch: service.fetch,
      now: clock.now,
      timers: clock.timers,
      onSessionEnded: (reason) => ended.push(reason),
      onError: (error) => errors.push(error),
      ...extra,
    });
    client.subscribe((state) => states.push(state.signedIn));
    open.push(client);
    return { clock, service, client, ended, errors, states };
  };
  const first = make(options);
  return {
    ...first,
    another: (extra = {}) => make({ ...options, ...extra }),
    signIn: async () => {
      await first.client.login({ email: EMAIL, password: PASSWORD });
    },
  };
}

/** The bearer token a client sends now (the fake API echoes nothing else of interest). */
export async function bearerOf(client: AuthClient, service: FakeService): Promise<string | null> {
  await client.fetch('/api/whoami');
  return service.seen('/api/whoami').at(-1)?.bearer ?? null;
}
