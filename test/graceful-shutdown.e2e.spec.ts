import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { PASSWORD, uniqueEmail } from './support/auth-client';
import { ensureBuilt, type Exit, ServiceProcess } from './support/service-process';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { sleep } from './support/time';

/**
 * Issue 5, point 8: SIGTERM lets the requests in flight finish and closes the database cleanly.
 * The built service runs as a child process; 16 concurrent logins (argon2: tens of ms each, a
 * few at a time on the thread pool) are in flight when SIGTERM arrives. Every one must answer
 * 200, the process must exit by itself, and a restart on the same database must know every
 * session those logins started.
 */

const CONCURRENT_LOGINS = 16;
const EXIT_WITHIN_MS = 10_000;
/** The brief pause between sending the logins and the signal. */
const SIGNAL_DELAY_MS = 20;
/** How long to wait for the kernel to show the server has read every request. */
const READ_WAIT_MS = 10_000;

interface Outcome {
  id: string;
  /** When the request was fully handed to the kernel. */
  sent: Promise<void>;
  done: Promise<void>;
  status?: number;
  body?: string;
  /** A network error instead of an answer (reset, refused, ...). */
  error?: string;
  answeredAt?: number;
}

/** POST /auth/login through `agent` (keep-alive or not), with its own X-Request-Id; never rejects. */
function login(agent: Agent, url: string, id: string, email: string): Outcome {
  const outcome = { id } as Outcome;
  const body = JSON.stringify({ email, password: PASSWORD });
  let markSent!: () => void;
  outcome.sent = new Promise((resolve) => (markSent = resolve));
  outcome.done = new Promise((resolve) => {
    const req = request(
      `${url}/auth/login`,
      {
        method: 'POST',
        agent,
        headers: {
          'Content-Type': 'application/json',
          'Content-Length': Buffer.byteLength(body),
          'X-Request-Id': id,
        },
        timeout: 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          outcome.status = res.statusCode;
          outcome.body = Buffer.concat(chunks).toString();
          outcome.answeredAt = Date.now();
          resolve();
        });
        res.on('error', (error) => {
          outcome.error = `response: ${(error as NodeJS.ErrnoException).code ?? error.message}`;
          resolve();
        });
      },
    );
    req.on('finish', markSent);
    req.on('timeout', () => req.destroy(new Error('client timeout')));
    req.on('error', (error) => {
      outcome.error = (error as NodeJS.ErrnoException).code ?? error.message;
      markSent();
      resolve();
    });
    req.end(body);
  });
  return outcome;
}

/**
 * The server side of the loopback TCP connections to `port`, from Linux's /proc/net/tcp:
 * connections still waiting in the accept queue and bytes received on established ones but not
 * yet read by the process. Undefined where there is no /proc.
 */
function serverSockets(port: number): { queued: number; unread: number } | undefined {
  let table: string;
  try {
    table = readFileSync('/proc/net/tcp', 'utf8');
  } catch {
    return undefined;
  }
  const suffix = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const result = { queued: 0, unread: 0 };
  for (const row of table.split('\n').slice(1)) {
    const [, local, , state, queues] = row.trim().split(/\s+/);
    if (!local?.endsWith(suffix) || !queues) continue;
    const rxQueue = parseInt(queues.split(':')[1], 16);
    // LISTEN: rx_queue is the accept backlog. ESTABLISHED: bytes not yet read.
    if (state === '0A') result.queued += rxQueue;
    if (state === '01') result.unread += rxQueue;
  }
  return result;
}

/**
 * Waits until the service has accepted every connection and read every byte sent to it (the
 * caller waited until every request was handed to the kernel), so that the logins are in the
 * service's hands, in flight, not in the kernel's when the signal comes. On a busy machine that
 * can take far longer than the brief pause before it. Without /proc: until the first answer
 * (the service reads while argon2 runs on the thread pool).
 */
async function waitUntilServerHasRead(port: number, outcomes: Outcome[]): Promise<string> {
  const deadline = Date.now() + READ_WAIT_MS;
  let last = '';
  while (Date.now() < deadline) {
    const sockets = serverSockets(port);
    if (!sockets) {
      await Promise.race(outcomes.map((outcome) => outcome.done));
      return 'no /proc/net/tcp: waited for the first answer';
    }
    last = JSON.stringify(sockets);
    if (sockets.queued === 0 && sockets.unread === 0) return last;
    await sleep(2);
  }
  return `gave up waiting: ${last}`;
}

async function refresh(url: string, refreshToken: string): Promise<number> {
  const response = await fetch(`${url}/auth/refresh`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ refresh_token: refreshToken }),
    signal: AbortSignal.timeout(20_000),
  });
  await response.arrayBuffer();
  return response.status;
}

interface LogLine {
  msg?: string;
  level?: number;
  req?: { id?: string };
  res?: { statusCode?: number };
}

interface Scenario {
  outcomes: Outcome[];
  /** What /proc/net/tcp showed when the signal was sent. */
  sockets: string;
  signalledAt: number;
  /** The exit within EXIT_WITHIN_MS of the signal, while the clients keep their connections. */
  exitBySelf?: Exit;
  /** The exit once the clients closed their connections too. */
  exit?: Exit;
  lines: string[];
  /** Refresh statuses of the logins' sessions after a restart on the same database. */
  refreshAfterRestart: number[];
}

/**
 * Starts the service, sends CONCURRENT_LOGINS logins at once and SIGTERM while they are in
 * flight, waits for the exit, and restarts on the same database to refresh every session.
 */
async function runScenario(keepAlive: boolean, database: TestDatabase): Promise<Scenario> {
  const agent = new Agent({ keepAlive });
  const processes: ServiceProcess[] = [];
  try {
    const service = await ServiceProcess.start({ ...database.env, LOG_LEVEL: 'info' });
    processes.push(service);
    const url = service.url;
    const email = uniqueEmail('shutdown');
    const registered = await fetch(`${url}/auth/register`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email, password: PASSWORD }),
    });
    if (registered.status !== 201) throw new Error(`register answered ${registered.status}`);
    // A warm-up login: the first argon2 run and the first queries are behind us.
    const warmUp = login(agent, url, 'warm-up', email);
    await warmUp.done;
    if (warmUp.status !== 200) throw new Error(`warm-up login: ${warmUp.status ?? warmUp.error}`);

    const outcomes = Array.from({ length: CONCURRENT_LOGINS }, (_, i) =>
      login(agent, url, `shutdown-${i}`, email),
    );
    await Promise.all(outcomes.map((outcome) => outcome.sent));
    await sleep(SIGNAL_DELAY_MS);
    const sockets = await waitUntilServerHasRead(Number(new URL(url).port), outcomes);
    const signalledAt = Date.now();
    service.kill('SIGTERM');

    const exitBySelf = await service.waitExit(EXIT_WITHIN_MS);
    await Promise.all(outcomes.map((outcome) => outcome.done));
    // Clients let go of their idle connections (a lingering process can finish its shutdown).
    agent.destroy();
    const exit = exitBySelf ?? (await service.waitExit(EXIT_WITHIN_MS));
    if (!exit) await service.stop();

    const refreshAfterRestart: number[] = [];
    const restarted = await ServiceProcess.start({ ...database.env, LOG_LEVEL: 'warn' });
    processes.push(restarted);
    for (const outcome of outcomes) {
      const token = outcome.body
        ? (JSON.parse(outcome.body) as { refresh_token?: string }).refresh_token
        : undefined;
      refreshAfterRestart.push(token ? await refresh(restarted.url, token) : 0);
    }
    await restarted.stop();
    return {
      outcomes,
      sockets,
      signalledAt,
      exitBySelf,
      exit,
      lines: service.lines(),
      refreshAfterRestart,
    };
  } finally {
    agent.destroy();
    for (const service of processes) await service.stop();
  }
}

/** 0, or the re-raised SIGTERM (143 from a shell). */
function isCleanExit(exit: Exit | undefined): boolean {
  return (
    exit !== undefined &&
    ((exit.code === 0 && exit.signal === null) ||
      (exit.code === null && exit.signal === 'SIGTERM') ||
      exit.code === 143)
  );
}

describe.each([
  ['clients that close their connections', false],
  ['keep-alive clients', true],
])('graceful shutdown on SIGTERM, %s', (_name, keepAlive) => {
  let database: TestDatabase;
  let scenario: Scenario;

  beforeAll(async () => {
    ensureBuilt();
    database = await createTestDatabase();
    scenario = await runScenario(keepAlive, database);
  }, 300_000);

  afterAll(() => database?.drop());

  it('answers 200 to every login it had read when the signal came (none reset, no 503)', () => {
    const report = scenario.outcomes.map(({ id, status, error }) => ({ id, status, error }));
    expect({ sockets: scenario.sockets, failed: report.filter((r) => r.status !== 200) }).toEqual({
      sockets: scenario.sockets,
      failed: [],
    });
  });

  it('got the signal while logins were in flight', () => {
    const late = scenario.outcomes.filter(
      (outcome) => outcome.answeredAt !== undefined && outcome.answeredAt >= scenario.signalledAt,
    );
    expect(late.length).toBeGreaterThan(0);
  });

  // Keep-alive connections busy at the signal are closed after their response (Connection: close).
  it(`exits by itself within ${EXIT_WITHIN_MS} ms`, () => {
    expect(isCleanExit(scenario.exitBySelf)).toBe(true);
  });

  it('exits cleanly (0 or the re-raised SIGTERM) once its clients let go', () => {
    expect(scenario.exit).toBeDefined();
    expect(isCleanExit(scenario.exit)).toBe(true);
  });

  it('logs no error on the way down', () => {
    const messages = scenario.lines.map((line) => JSON.parse(line) as LogLine);
    // error is level 50
    expect(messages.filter((line) => (line.level ?? 0) >= 50)).toEqual([]);
  });

  /** The log has a "request completed" line for every login, and the shutdown line. */
  function expectCompleteLog(withShutdownLine: boolean): void {
    const messages = scenario.lines.map((line) => JSON.parse(line) as LogLine);
    const completed = messages.filter(
      (line) => line.msg === 'request completed' && line.req?.id?.startsWith('shutdown-'),
    );
    expect(completed.map((line) => line.res?.statusCode)).toEqual(scenario.outcomes.map(() => 200));
    if (withShutdownLine)
      expect(messages.map((line) => line.msg)).toContain('shut down on SIGTERM');
  }

  {
    // pino writes asynchronously: Nest exits with process.exit (useProcessExit) so it flushes.
    it('logs every login it answered and its shutdown ("shut down on SIGTERM")', () =>
      expectCompleteLog(true));
  }

  it('restarts on the same database, which holds every session the logins started', () => {
    expect(scenario.refreshAfterRestart).toEqual(scenario.outcomes.map(() => 200));
  });
});
