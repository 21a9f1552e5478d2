import { PASSWORD, uniqueEmail } from './support/auth-client';
import { ensureBuilt, ServiceProcess } from './support/service-process';
import { createTestDatabase, type TestDatabase, usingPostgres } from './support/test-database';
import { sleep } from './support/time';

/**
 * `kill -9` during a refresh load loses no acknowledged rotation: the built service runs as a
 * child process, N users refresh in loops, the process is SIGKILLed mid-load and restarted on
 * the same data, and every user's last acknowledged refresh token must still be the one the
 * database holds.
 */

const USERS = 20;
const LOAD_MS = 1_500;
/** Bounds of each user's refresh loop, whatever happens to the kill. */
const MAX_REFRESHES_PER_USER = 1_000;
const LOOP_DEADLINE_MS = 15_000;
/** On top of ServiceProcess's environment: quiet logs; grace 0, a rotated token is reuse at once. */
const SERVICE_ENV = { LOG_LEVEL: 'warn', AUTH_REFRESH_REUSE_GRACE: '0' };

/** Kills the process and waits until it is gone. */
async function killNow(service: ServiceProcess): Promise<void> {
  service.kill('SIGKILL');
  await service.exited;
}

async function post(url: string, body: unknown): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
}

/** One user under load: the chain of refresh tokens the server acknowledged, oldest first. */
interface LoadedUser {
  email: string;
  sessionId: string;
  /** `acknowledged[0]` came from the login; each next one from a refresh answered 200. */
  acknowledged: string[];
  /** Set when the last request got no complete answer (the kill): it may or may not have committed. */
  inFlight: boolean;
  /** Any answer but 200 during the load. */
  unexpected?: string;
}

async function registerAndLogin(service: ServiceProcess): Promise<LoadedUser> {
  const email = uniqueEmail('crash');
  const registered = await post(`${service.url}/auth/register`, { email, password: PASSWORD });
  if (registered.status !== 201) {
    throw new Error(`register answered ${registered.status}: ${await registered.text()}`);
  }
  const loggedIn = await post(`${service.url}/auth/login`, { email, password: PASSWORD });
  if (loggedIn.status !== 200) {
    throw new Error(`login answered ${loggedIn.status}: ${await loggedIn.text()}`);
  }
  const tokens = (await loggedIn.json()) as { refresh_token: string; session_id: string };
  return {
    email,
    sessionId: tokens.session_id,
    acknowledged: [tokens.refresh_token],
    inFlight: false,
  };
}

/** Refreshes sequentially, keeping the token of every 200, until the process dies or a bound. */
async function refreshLoop(
  service: ServiceProcess,
  user: LoadedUser,
  deadline: number,
): Promise<void> {
  for (let i = 0; i < MAX_REFRESHES_PER_USER && Date.now() < deadline; i += 1) {
    const current = user.acknowledged[user.acknowledged.length - 1];
    user.inFlight = true;
    let response: Response;
    let body: { refresh_token?: unknown };
    try {
      response = await post(`${service.url}/auth/refresh`, { refresh_token: current });
      if (response.status !== 200) {
        user.inFlight = false;
        user.unexpected = `${response.status} ${await response.text()}`;
        return;
      }
      body = (await response.json()) as { refresh_token?: unknown };
    } catch {
      // Refused, reset or cut mid-body: not acknowledged.
      return;
    }
    if (typeof body.refresh_token !== 'string') {
      user.inFlight = false;
      user.unexpected = `200 without a refresh token: ${JSON.stringify(body)}`;
      return;
    }
    user.acknowledged.push(body.refresh_token);
    user.inFlight = false;
  }
}

/** What the restarted service holds for one user, decided over HTTP. */
interface Verdict {
  email: string;
  acknowledgedRotations: number;
  inFlight: boolean;
  /** The last acknowledged token refreshed. */
  lastAcknowledgedRefreshed: boolean;
  /** Acknowledged rotations the database no longer has (0 when none was lost). */
  lost: number;
  /** The token before the last acknowledged one was accepted although it had been rotated. */
  previousAccepted: boolean;
  problem?: string;
}

async function verify(service: ServiceProcess, user: LoadedUser): Promise<Verdict> {
  const chain = user.acknowledged;
  const verdict: Verdict = {
    email: user.email,
    acknowledgedRotations: chain.length - 1,
    inFlight: user.inFlight,
    lastAcknowledgedRefreshed: false,
    lost: 0,
    previousAccepted: false,
  };

  // The user and its session survived: log in again and look for the loaded session.
  const login = await post(`${service.url}/auth/login`, { email: user.email, password: PASSWORD });
  if (login.status !== 200) {
    verdict.problem = `login after restart answered ${login.status} (user lost?)`;
    return verdict;
  }
  const { access_token: accessToken } = (await login.json()) as { access_token: string };
  const sessions = await fetch(`${service.url}/auth/sessions`, {
    headers: { Authorization: `Bearer ${accessToken}` },
    signal: AbortSignal.timeout(15_000),
  });
  const listed: unknown = await sessions.json();
  const active = Array.isArray(listed) ? (listed as { id: string }[]) : [];
  if (sessions.status !== 200 || !active.some((session) => session.id === user.sessionId)) {
    verdict.problem = `the loaded session is not active after restart (${sessions.status})`;
    return verdict;
  }

  const last = chain[chain.length - 1];
  const lastAnswer = await post(`${service.url}/auth/refresh`, { refresh_token: last });
  if (lastAnswer.status === 200) {
    verdict.lastAcknowledgedRefreshed = true;
    // The rotated predecessor must stay rotated (with grace 0 this also ends the session).
    if (chain.length > 1) {
      const previous = chain[chain.length - 2];
      const previousAnswer = await post(`${service.url}/auth/refresh`, { refresh_token: previous });
      verdict.previousAccepted = previousAnswer.status === 200;
    }
    return verdict;
  }
  if (lastAnswer.status !== 401) {
    verdict.problem = `the last acknowledged token answered ${lastAnswer.status}: ${await lastAnswer.text()}`;
    return verdict;
  }
  // 401: either an unacknowledged refresh in flight at the kill rotated `last` (legitimate), or
  // the database went back to an older token. The session exists, so the token it holds as
  // current is in the chain unless the in-flight rotation committed: walking back finds it.
  // (Presenting a rotated token ends the session, after which every older one answers 401 too:
  // the walk cannot mistake a legitimate case for a loss.)
  for (let index = chain.length - 2; index >= 0; index -= 1) {
    const answer = await post(`${service.url}/auth/refresh`, { refresh_token: chain[index] });
    if (answer.status === 200) {
      verdict.lost = chain.length - 1 - index;
      verdict.problem = `the database went back ${verdict.lost} acknowledged rotation(s): token #${index} of ${chain.length - 1} refreshed`;
      return verdict;
    }
  }
  if (!user.inFlight) {
    verdict.problem = `the last acknowledged token answered ${lastAnswer.status} with no request in flight at the kill`;
  }
  return verdict;
}

describe(`kill -9 during a refresh load (${usingPostgres ? 'PostgreSQL' : 'PGlite'})`, () => {
  let database: TestDatabase;
  const services: ServiceProcess[] = [];

  beforeAll(async () => {
    ensureBuilt();
    database = await createTestDatabase();
  }, 300_000);

  afterAll(async () => {
    for (const service of services) await killNow(service);
    await database?.drop();
  }, 60_000);

  // PGlite as configured (fsync off, Emscripten NODEFS) still write()s each commit's WAL before
  // answering, so a killed process loses nothing; an OS crash or power loss could (no fsync).
  it('loses no acknowledged rotation', async () => {
    const first = await ServiceProcess.start({ ...SERVICE_ENV, ...database.env });
    services.push(first);

    const users = await Promise.all(Array.from({ length: USERS }, () => registerAndLogin(first)));

    const loadStarted = Date.now();
    const loops = Promise.all(
      users.map((user) => refreshLoop(first, user, loadStarted + LOOP_DEADLINE_MS)),
    );
    await sleep(LOAD_MS);
    // On a very busy machine, give every user a few rotations before the kill (bounded).
    while (
      users.some((user) => user.acknowledged.length < 3) &&
      Date.now() < loadStarted + 10_000
    ) {
      await sleep(50);
    }
    const inFlightAtKill = users.filter((user) => user.inFlight).length;
    first.kill('SIGKILL');
    const exit = await first.exited;
    await loops;

    expect(exit.signal).toBe('SIGKILL');
    expect(users.filter((user) => user.unexpected).map((u) => u.unexpected)).toEqual([]);
    // The load really ran, and the kill really hit it.
    for (const user of users) expect(user.acknowledged.length).toBeGreaterThan(1);
    expect(inFlightAtKill).toBeGreaterThan(0);

    const second = await ServiceProcess.start({ ...SERVICE_ENV, ...database.env });
    services.push(second);
    const verdicts = await Promise.all(users.map((user) => verify(second, user)));

    const problems = verdicts.filter((v) => v.problem || v.previousAccepted);
    const summary = {
      users: USERS,
      acknowledgedRotations: verdicts.reduce((sum, v) => sum + v.acknowledgedRotations, 0),
      inFlightAtKill,
      lastAcknowledgedRefreshed: verdicts.filter((v) => v.lastAcknowledgedRefreshed).length,
      rotatedByUnacknowledgedRefresh: verdicts.filter(
        (v) => !v.lastAcknowledgedRefreshed && !v.problem,
      ).length,
    };
    expect({ summary, problems }).toEqual({ summary, problems: [] });
    // Every user either refreshed its last acknowledged token, or had a refresh in flight
    // whose rotation committed before the kill.
    expect(summary.lastAcknowledgedRefreshed + summary.rotatedByUnacknowledgedRefresh).toBe(USERS);
  }, 180_000);
});
