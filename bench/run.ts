// `npm run bench [-- --quick] [-- --only guard,login,...] [-- --out FILE] [-- --cpu-prof]`
// Starts the service (node dist/src/main.js) on a fresh PostgreSQL database of DATABASE_URL's
// server, or on an embedded database, drives it with autocannon from this process, prints one
// table and writes it to docs/PERFORMANCE.md (quick runs: .artifacts/bench/). It never fails on
// speed: it exits non-zero only when something is broken (a 4xx, a process that cannot start).

// First, as in main.ts: this process's libuv pool gets the service's size, so that the raw argon2
// rate measured here is comparable with the service's logins.
import { threadPoolSize } from '../src/thread-pool';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { AUTH_DEFAULTS } from '../src/auth/auth.constants';
import { argon2VerifyRate } from './argon2-rate';
import {
  type BenchUser,
  bearerRequests,
  loginMany,
  mintAccessTokens,
  PASSWORD,
  postJson,
  refreshRequests,
  register,
  rotatingBearerRequests,
  type TokenPair,
} from './auth-http';
import { type BenchDatabase, createBenchDatabase, seedSessions } from './database';
import { type LoadResult, type LoadSpec, median, type RequestSpec, runLoad } from './load';
import { killStartedProcesses, type RunningProcess, startProcess } from './processes';
import { type Figure, renderReport, writeReport } from './report';

const ROOT = resolve(__dirname, '../..');
const SERVICE = join(ROOT, 'dist/src/main.js');
const DOCS_GUARD_APP = join(ROOT, 'dist/bench/apps/docs-guard-app.js');
const TUTORIAL_APP = join(ROOT, 'dist/bench/apps/tutorial-refresh-app.js');
const PROFILING_EXIT = join(ROOT, 'dist/bench/profiling-exit.js');
const LOG_DIR = join(ROOT, '.artifacts/bench');

const PHASES = ['start', 'guard', 'login', 'refresh', 'tutorial', 'docs', 'pool'] as const;
type Phase = (typeof PHASES)[number];

interface Settings {
  /** Each measured run, seconds. */
  durationS: number;
  /** Warm-up before a series of runs, seconds (results discarded). */
  warmupS: number;
  /** Interleaved rounds of the guard comparisons; the ratios are their medians. */
  rounds: number;
  /** Each run of a round, seconds. */
  roundS: number;
  /** Connections of the throughput runs, and concurrent refresh sessions. */
  connections: number;
  loginClients: number;
  /** The guarded-route probe that runs alongside logins. */
  probe: { connections: number; rate: number };
  /** Stored refresh tokens for the refresh-latency comparison. */
  storedSessions: [number, number];
  /** Distinct tokens of the cache-miss run: more than the cache holds. */
  coldTokens: number;
  startSamples: number;
  tutorialS: number;
  tutorialVariants: ('library-defaults' | 'owasp')[];
  /** libuv pool sizes compared in the `pool` phase, and its rounds. */
  poolSizes: number[];
  poolRounds: number;
}

const FULL: Settings = {
  durationS: 10,
  warmupS: 3,
  rounds: 3,
  roundS: 5,
  connections: 50,
  loginClients: 8,
  probe: { connections: 10, rate: 2000 },
  storedSessions: [10_000, 1_000_000],
  coldTokens: 20_000,
  startSamples: 3,
  tutorialS: 20,
  tutorialVariants: ['library-defaults', 'owasp'],
  poolSizes: [1, 2, 4],
  poolRounds: 2,
};

/** CI: every phase runs, briefly, with small data; a smoke test of the bench, not a measure. */
const QUICK: Settings = {
  durationS: 1,
  warmupS: 1,
  rounds: 1,
  roundS: 1,
  connections: 50,
  loginClients: 8,
  probe: { connections: 10, rate: 2000 },
  storedSessions: [2_000, 20_000],
  coldTokens: 12_000,
  startSamples: 1,
  tutorialS: 6,
  tutorialVariants: ['library-defaults'],
  poolSizes: [],
  poolRounds: 0,
};

const ARGON2 = AUTH_DEFAULTS.passwordHashing;

/** A load result with the server's CPU time per successful response (µs), when measured. */
type Measured = LoadResult & { cpuUs?: number };
const JSON_HEADERS = { 'content-type': 'application/json' };

function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      out: { type: 'string' },
      'cpu-prof': { type: 'boolean', default: false },
    },
  });
  const settings = values.quick ? QUICK : FULL;
  const only = values.only?.split(',').map((phase) => phase.trim()) as Phase[] | undefined;
  for (const phase of only ?? []) {
    if (!PHASES.includes(phase))
      throw new Error(`--only: unknown phase ${phase} (${PHASES.join(', ')})`);
  }
  const wants = (phase: Phase) => !only || only.includes(phase);
  const serverUrl = process.env.DATABASE_URL || undefined;
  if (serverUrl && !['127.0.0.1', 'localhost'].includes(new URL(serverUrl).hostname)) {
    throw new Error('bench: DATABASE_URL must point at this machine (127.0.0.1).');
  }
  const out =
    values.out ??
    (values.quick || only
      ? join(LOG_DIR, `PERFORMANCE.${values.quick ? 'quick' : 'partial'}.md`)
      : join(ROOT, 'docs/PERFORMANCE.md'));

  rmSync(LOG_DIR, { recursive: true, force: true });
  mkdirSync(LOG_DIR, { recursive: true });
  const workDir = mkdtempSync(join(os.tmpdir(), 'nta-bench-'));
  const cleanups: (() => Promise<void>)[] = [];
  const figures: Figure[] = [];
  const loadBefore = os.loadavg()[0];
  const startedAt = Date.now();
  log(
    `${values.quick ? 'quick' : 'full'} run on ${serverUrl ? 'PostgreSQL' : 'the embedded database'}`,
  );

  try {
    if (wants('start')) figures.push(...(await measureStartup(serverUrl, workDir, settings)));

    const database = await createBenchDatabase(serverUrl, workDir);
    cleanups.push(() => database.drop());
    const signingKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const serviceEnv = {
      ...database.env,
      AUTH_JWT_PRIVATE_KEY: signingKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      AUTH_COOKIE_SECURE: 'false',
      // Fixed: the default issuer names the port, which differs between the service instances.
      AUTH_ISSUER: 'http://nest-token-auth.bench',
      // All the load comes from one address: the per-IP limit would answer 429 within a second.
      // Raised, not turned off: its bookkeeping still runs on every /auth request.
      AUTH_RATE_LIMIT: '1000000000',
    };
    const nodeArgs = values['cpu-prof']
      ? ['--cpu-prof', `--cpu-prof-dir=${join(LOG_DIR, 'profiles')}`, '--require', PROFILING_EXIT]
      : [];
    const startService = (name: string, env: Record<string, string> = {}) =>
      startProcess({
        name,
        script: SERVICE,
        env: { ...serviceEnv, ...env },
        readyPath: '/health',
        logDir: LOG_DIR,
        nodeArgs,
      });

    let service = await startService('service');
    cleanups.push(() => service.stop());
    const memoryAtStart = service.memory();
    const users = await registerUsers(service.origin, settings.loginClients);
    const sessions = await loginMany(service.origin, users, settings.connections);
    const accessTokens = sessions.map((session) => session.access_token);

    if (wants('guard')) {
      const cold = mintAccessTokens(accessTokens[0], signingKey, settings.coldTokens);
      figures.push(...(await measureGuard(service, accessTokens, cold, settings)));
    }
    if (wants('login'))
      figures.push(...(await measureLogins(service, users, accessTokens, settings)));

    // The embedded database has one owner: the service stops while the bench seeds it.
    const seedStored = async (total: number, round: number) => {
      if (database.kind === 'embedded') await service.stop();
      const { after } = await seed(database, total, round);
      if (database.kind === 'embedded') service = await startService(`service-seeded-${round}`);
      return after;
    };
    let refreshSmall: Measured | undefined;
    if (wants('refresh')) {
      // The same refreshes against a second service whose database holds many more tokens, in
      // interleaved rounds, so that the other jobs of the machine weigh on both alike.
      const largeDatabase = await createBenchDatabase(serverUrl, workDir);
      cleanups.push(() => largeDatabase.drop());
      const storedSmall = await seedStored(settings.storedSessions[0], 1);
      let large = await startService('service-large', largeDatabase.env); // migrates it
      if (largeDatabase.kind === 'embedded') await large.stop();
      const storedLarge = (await seed(largeDatabase, settings.storedSessions[1], 2)).after;
      if (largeDatabase.kind === 'embedded') {
        large = await startService('service-large-seeded', largeDatabase.env);
      }
      cleanups.push(() => large.stop());
      const largeUsers = await registerUsers(large.origin, settings.loginClients);
      const runs = await measureRefresh(
        { service, users, stored: storedSmall },
        { service: large, users: largeUsers, stored: storedLarge },
        settings,
      );
      await large.stop();
      refreshSmall = medianResult(runs.small);
      figures.push(refreshFigure(refreshSmall, storedSmall));
      figures.push(scaleFigure(runs.small, storedSmall, runs.large, storedLarge));
    }
    if (wants('tutorial')) {
      figures.push(...(await measureTutorial(database, workDir, settings, refreshSmall)));
    }

    const memory = service.memory();
    figures.push({
      figure: 'service resident memory after the run (peak; at start)',
      result: `${memory.rssMiB.toFixed(0)} MiB (${memory.peakMiB.toFixed(0)} MiB; ${memoryAtStart.rssMiB.toFixed(0)} MiB)`,
      target: '<= 200 MiB',
      met: memory.rssMiB <= 200,
    });
    await service.stop();

    if (wants('docs')) figures.push(...(await measureDocsGuard(settings)));
    if (wants('pool') && settings.poolSizes.length > 0) {
      figures.push(...(await measurePoolSizes(startService, users, accessTokens, settings)));
    }
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    killStartedProcesses();
    rmSync(workDir, { recursive: true, force: true });
  }

  const report = renderReport({
    figures,
    quick: values.quick,
    command: describeCommand(serverUrl, values.quick, only),
    machine: await describeMachine(serverUrl),
    commit: describeCommit(),
    loadAverage: [loadBefore, os.loadavg()[0]],
    threadPoolSize: threadPoolSize(),
    settings: `each run ${settings.durationS} s after a ${settings.warmupS} s warm-up; guard ratios are medians of ${settings.rounds} interleaved round(s) of ${settings.roundS} s`,
    minutes: (Date.now() - startedAt) / 60_000,
  });
  process.stdout.write(report + '\n');
  await writeReport(out, report);
  log(`written to ${relative(process.cwd(), out)}; logs in ${relative(process.cwd(), LOG_DIR)}`);
}

/** Start-to-ready (spawn to the first 200 from /health) on a new database, then on it again. */
async function measureStartup(
  serverUrl: string | undefined,
  workDir: string,
  settings: Settings,
): Promise<Figure[]> {
  const fresh: number[] = [];
  const again: number[] = [];
  for (let i = 0; i < settings.startSamples; i++) {
    const database = await createBenchDatabase(serverUrl, workDir);
    try {
      for (const samples of [fresh, again]) {
        const service = await startProcess({
          name: `startup-${i}`,
          script: SERVICE,
          env: database.env,
          readyPath: '/health',
          logDir: LOG_DIR,
        });
        samples.push(service.readyMs);
        await service.stop();
      }
    } finally {
      await database.drop();
    }
  }
  const where = serverUrl ? 'PostgreSQL' : 'embedded database';
  log(`start to ready: new ${fresh.map(ms).join(', ')}; existing ${again.map(ms).join(', ')}`);
  return [
    {
      figure: `start to ready on ${where}: new database (migrations, key) / existing`,
      result: `${ms(median(fresh))} / ${ms(median(again))}`,
      target: '<= 3 s',
      met: serverUrl ? Math.max(median(fresh), median(again)) <= 3000 : undefined,
    },
  ];
}

/** Public vs guarded route, in interleaved rounds, with cached and with never-seen tokens. */
async function measureGuard(
  service: RunningProcess,
  accessTokens: string[],
  coldTokens: string[],
  settings: Settings,
): Promise<Figure[]> {
  const variants: Record<
    'public' | 'cached' | 'cold' | 'verified' | 'padded',
    LoadSpec['requests']
  > = {
    public: [{ method: 'GET', path: '/demo/public' }],
    cached: bearerRequests('/demo/private', accessTokens),
    cold: rotatingBearerRequests('/demo/private', coldTokens),
    // The public route verifies a bearer token when there is one: the guard's work alone,
    // with the handler, the response and the log line of the public route.
    verified: bearerRequests('/demo/public', accessTokens),
    // The same bytes on the wire without a token: what carrying the header costs, guard aside.
    padded: (connection: number) => [
      {
        method: 'GET',
        path: '/demo/public',
        headers: {
          'x-padding': 'x'.repeat(
            `Bearer ${accessTokens[connection % accessTokens.length]}`.length,
          ),
        },
      },
    ],
  };
  const results = await interleavedRounds(service, variants, settings);
  const rps = (variant: keyof typeof variants) => median(results[variant].map((r) => r.rps));
  const cpuUs = (variant: keyof typeof variants) =>
    median(results[variant].map((r) => r.cpuUs ?? NaN));
  const cpu = (variant: keyof typeof variants) => `${cpuUs(variant).toFixed(0)} µs`;
  const ratios = (variant: 'cached' | 'cold' | 'verified') =>
    results[variant].map((result, round) => result.rps / results.public[round].rps);
  const guardOwn = results.verified.map((result, round) => result.rps / results.padded[round].rps);
  const cached = ratios('cached');
  const cold = ratios('cold');
  const verified = ratios('verified');
  return [
    {
      figure: `public route GET /demo/public, ${settings.connections} connections`,
      result: `${rate(rps('public'))} req/s; service CPU ${cpu('public')}/request`,
    },
    {
      figure: `guarded GET /demo/private, ES256, ${accessTokens.length} clients each reusing its token (cache hits)`,
      result: `${rate(rps('cached'))} req/s = **${ratio(median(cached))}** of public${spread(cached)}; ${cpu('cached')}/request`,
      target: '>= 0.95 of public',
      met: median(cached) >= 0.95,
    },
    {
      figure: 'guarded, every request a token never seen before (full ES256 verification)',
      result: `${rate(rps('cold'))} req/s = ${ratio(median(cold))} of public${spread(cold)}; ${cpu('cold')}/request`,
    },
    {
      figure: `the guard alone: GET /demo/public with those ${accessTokens.length} tokens, which it verifies (cache hits), vs without`,
      result: `${rate(rps('verified'))} req/s = ${ratio(median(verified))} of public${spread(verified)}; ${cpu('verified')}/request`,
    },
    {
      figure: `the guard's own work: those requests vs GET /demo/public carrying a header of the same length that is not a token`,
      result: `${rate(rps('padded'))} req/s padded; guard ${ratio(median(guardOwn))} of it${spread(guardOwn)}; ${(cpuUs('verified') - cpuUs('padded')).toFixed(1)} µs more service CPU/request (padding alone: ${(cpuUs('padded') - cpuUs('public')).toFixed(1)} µs)`,
    },
  ];
}

/** The docs' passport-jwt guard (HS256, string secret) on Fastify and on Express. */
async function measureDocsGuard(settings: Settings): Promise<Figure[]> {
  const figures: Figure[] = [];
  const publicRps: Record<string, number> = {};
  for (const adapter of ['fastify', 'express']) {
    const app = await startProcess({
      name: `docs-guard-${adapter}`,
      script: DOCS_GUARD_APP,
      args: [adapter],
      env: { JWT_SECRET: 'docs-guard-bench-secret-0123456789abcdef' },
      readyPath: '/demo/public',
      logDir: LOG_DIR,
    });
    try {
      const tokens: string[] = [];
      for (let i = 0; i < settings.connections; i++) {
        tokens.push((await postJson<TokenPair>(app.origin, '/auth/login', {})).access_token);
      }
      const results = await interleavedRounds(
        app,
        {
          public: [{ method: 'GET', path: '/demo/public' }],
          guarded: bearerRequests('/demo/private', tokens),
        },
        settings,
      );
      const ratios = results.guarded.map((result, round) => result.rps / results.public[round].rps);
      publicRps[adapter] = median(results.public.map((r) => r.rps));
      figures.push({
        figure: `NestJS docs' guard (passport-jwt, HS256 string secret) on ${adapter === 'fastify' ? 'Fastify' : 'Express'}: public / guarded`,
        result: `${rate(publicRps[adapter])} / ${rate(median(results.guarded.map((r) => r.rps)))} req/s = ${ratio(median(ratios))} of public${spread(ratios)}`,
      });
    } finally {
      await app.stop();
    }
  }
  figures.push({
    figure: 'adapter: the same Nest app, public route, Fastify vs Express',
    result: `Fastify ${ratio(publicRps.fastify / publicRps.express)}x Express`,
  });
  return figures;
}

/** Runs every variant once per round, in the same order each round; returns the runs by variant. */
async function interleavedRounds<V extends string>(
  server: RunningProcess,
  variants: Record<V, LoadSpec['requests']>,
  settings: Settings,
): Promise<Record<V, Measured[]>> {
  const names = Object.keys(variants) as V[];
  for (const name of names) {
    await checked(`${name} (warm-up)`, {
      origin: server.origin,
      connections: settings.connections,
      durationS: settings.warmupS,
      requests: variants[name],
    });
  }
  const results = Object.fromEntries(names.map((name) => [name, []])) as unknown as Record<
    V,
    Measured[]
  >;
  for (let round = 0; round < settings.rounds; round++) {
    for (const name of names) {
      const result = await checked(
        name,
        {
          origin: server.origin,
          connections: settings.connections,
          durationS: settings.roundS,
          requests: variants[name],
        },
        server,
      );
      results[name].push(result);
    }
  }
  return results;
}

/**
 * Logins with 8 clients vs the raw argon2 rate, in interleaved rounds (the ratio is the median
 * of the rounds'); then guarded latency with and without logins.
 */
async function measureLogins(
  service: RunningProcess,
  users: BenchUser[],
  accessTokens: string[],
  settings: Settings,
): Promise<Figure[]> {
  await checked('logins (warm-up)', loginSpec(service.origin, users, settings, settings.warmupS));
  const raws: Awaited<ReturnType<typeof argon2VerifyRate>>[] = [];
  const logins: Measured[] = [];
  for (let round = 0; round < settings.rounds; round++) {
    const raw = await argon2VerifyRate(ARGON2, settings.loginClients, settings.roundS * 1000);
    log(
      `raw argon2id verify: ${raw.perSecond.toFixed(1)}/s, ${raw.msEach.toFixed(1)} ms each, CPU ${raw.cpuMsEach.toFixed(1)} ms each`,
    );
    raws.push(raw);
    logins.push(
      await checked('logins', loginSpec(service.origin, users, settings, settings.roundS), service),
    );
  }
  const ratios = logins.map((login, round) => login.rps / raws[round].perSecond);
  const rawRate = median(raws.map((raw) => raw.perSecond));
  const rawCpu = median(raws.map((raw) => raw.cpuMsEach));
  const loginRate = median(logins.map((login) => login.rps));
  const loginCpu = median(logins.map((login) => (login.cpuUs ?? NaN) / 1000));
  const { probeAlone, probeDuringLogins, loginsDuringProbe } = await probeRuns(
    service,
    users,
    accessTokens,
    settings,
    settings.durationS,
  );
  return [
    {
      figure: `raw argon2id verifications/s in one process, ${settings.loginClients} in flight (m=${ARGON2.memoryCost} KiB, t=${ARGON2.timeCost}, p=${ARGON2.parallelism}; ${threadPoolSize()} pool threads)`,
      result: `${rawRate.toFixed(1)}/s (${median(raws.map((raw) => raw.msEach)).toFixed(1)} ms each; CPU ${rawCpu.toFixed(1)} ms each)`,
    },
    {
      figure: `logins/s, ${settings.loginClients} clients, rounds interleaved with the raw rate (p50 / p99)`,
      result: `${loginRate.toFixed(1)}/s = **${ratio(median(ratios))}x** raw${spread(ratios)} (${ms(median(logins.map((l) => l.p50)))} / ${ms(median(logins.map((l) => l.p99)))}); service CPU ${loginCpu.toFixed(1)} ms/login`,
      target: '>= 0.9x raw',
      met: median(ratios) >= 0.9,
    },
    {
      figure: `guarded p99 at ${settings.probe.rate} req/s (${settings.probe.connections} connections): alone / while ${settings.loginClients} clients log in`,
      result: `${ms(probeAlone.p99)} / **${ms(probeDuringLogins.p99)}** (logins meanwhile: ${loginsDuringProbe.rps.toFixed(1)}/s)`,
      target: '<= 25 ms',
      met: probeDuringLogins.p99 <= 25,
    },
  ];
}

/** Each of the clients logs in again and again as its own user. */
function loginSpec(
  origin: string,
  users: BenchUser[],
  settings: Settings,
  durationS: number,
): LoadSpec {
  return {
    origin,
    connections: settings.loginClients,
    durationS,
    timeoutS: 30,
    requests: (connection): RequestSpec[] => [
      {
        method: 'POST',
        path: '/auth/login',
        headers: JSON_HEADERS,
        body: JSON.stringify({
          email: users[connection % users.length].email,
          password: PASSWORD,
          device: 'bench',
        }),
      },
    ],
  };
}

/** The guarded route at a fixed rate, alone, then while the clients log in. */
async function probeRuns(
  service: RunningProcess,
  users: BenchUser[],
  accessTokens: string[],
  settings: Settings,
  durationS: number,
): Promise<{
  probeAlone: LoadResult;
  probeDuringLogins: LoadResult;
  loginsDuringProbe: LoadResult;
}> {
  const probeSpec: LoadSpec = {
    origin: service.origin,
    connections: settings.probe.connections,
    durationS,
    overallRate: settings.probe.rate,
    requests: bearerRequests('/demo/private', accessTokens),
  };
  const probeAlone = await checked('guarded probe', probeSpec);
  const [loginsDuringProbe, probeDuringLogins] = await Promise.all([
    checked('logins with probe', loginSpec(service.origin, users, settings, durationS)),
    checked('guarded probe with logins', probeSpec),
  ]);
  return { probeAlone, probeDuringLogins, loginsDuringProbe };
}

/** One user per login client (each registration costs an argon2 hash). */
async function registerUsers(origin: string, count: number): Promise<BenchUser[]> {
  const users: BenchUser[] = [];
  for (let i = 0; i < count; i++) {
    users.push(await register(origin, `bench${i}.${Date.now()}@example.com`));
  }
  return users;
}

interface RefreshTarget {
  service: RunningProcess;
  users: BenchUser[];
  stored: number;
}

/**
 * Refresh rotations with one connection per session, each sending the token it got last, on
 * the service with few stored tokens and on the one with many, in interleaved rounds.
 */
async function measureRefresh(
  small: RefreshTarget,
  large: RefreshTarget,
  settings: Settings,
): Promise<{ small: Measured[]; large: Measured[] }> {
  // Each run gets new sessions: a run that ends mid-request leaves its sessions' tokens rotated.
  const run = async ({ service, users, stored }: RefreshTarget, durationS: number, label = '') => {
    const sessions = await loginMany(service.origin, users, settings.connections);
    return checked(
      `refresh, ${count(stored)} stored${label}`,
      {
        origin: service.origin,
        connections: settings.connections,
        durationS,
        requests: refreshRequests(sessions),
      },
      service,
    );
  };
  await run(small, settings.warmupS, ' (warm-up)');
  await run(large, settings.warmupS, ' (warm-up)');
  const results = { small: [] as Measured[], large: [] as Measured[] };
  for (let round = 0; round < settings.rounds; round++) {
    results.small.push(await run(small, settings.roundS));
    results.large.push(await run(large, settings.roundS));
  }
  return results;
}

/** Field by field, the median of several runs. */
function medianResult(results: Measured[]): Measured {
  const of = (field: 'rps' | 'p50' | 'p99' | 'cpuUs') =>
    median(results.map((r) => r[field] ?? NaN));
  return {
    ...results[0],
    rps: of('rps'),
    p50: of('p50'),
    p99: of('p99'),
    cpuUs: of('cpuUs'),
  };
}

function refreshFigure(result: Measured, stored: number): Figure {
  return {
    figure: `refresh rotations/s on ${count(result.connections)} concurrent sessions, ${count(stored)} sessions stored at start (p50 / p99; medians of the rounds)`,
    result: `**${rate(result.rps)}/s** (${ms(result.p50)} / **${ms(result.p99)}**); service CPU ${result.cpuUs?.toFixed(0)} µs/rotation`,
    target: '>= 1,500/s, p99 <= 50 ms',
    met: result.rps >= 1500 && result.p99 <= 50,
  };
}

function scaleFigure(
  small: Measured[],
  storedSmall: number,
  large: Measured[],
  storedLarge: number,
): Figure {
  const growths = large.map((result, round) => result.p50 / small[round].p50);
  const growth = median(growths);
  return {
    figure: `refresh p50 with ${count(storedLarge)} vs ${count(storedSmall)} sessions stored (two databases, interleaved rounds)`,
    result: `${ms(median(large.map((r) => r.p50)))} vs ${ms(median(small.map((r) => r.p50)))} = **${ratio(growth)}x**${spread(growths)}`,
    target: '<= 1.2x',
    met: growth <= 1.2,
  };
}

async function seed(
  database: BenchDatabase,
  total: number,
  round: number,
): Promise<{ after: number }> {
  const seeded = await seedSessions(database, total, round);
  log(`seeded sessions: ${count(seeded.before)} -> ${count(seeded.after)} in ${ms(seeded.ms)}`);
  return seeded;
}

/** The tutorial design (argon2-hashed refresh token on the user row), same machine, same run. */
async function measureTutorial(
  database: BenchDatabase,
  workDir: string,
  settings: Settings,
  ours: LoadResult | undefined,
): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (const variant of settings.tutorialVariants) {
    const env: Record<string, string> =
      database.kind === 'postgres'
        ? { DATABASE_URL: database.env.DATABASE_URL }
        : { TUTORIAL_DATA_DIR: mkdtempSync(join(workDir, 'tutorial-')) };
    const app = await startProcess({
      name: `tutorial-${variant}`,
      script: TUTORIAL_APP,
      env: { ...env, TUTORIAL_ARGON2: variant },
      readyPath: '/health',
      logDir: LOG_DIR,
    });
    try {
      const sessions = await Promise.all(
        Array.from({ length: settings.connections }, (_, i) =>
          postJson<TokenPair>(
            app.origin,
            '/auth/local/signup',
            { email: `tutorial${i}.${variant}@example.com` },
            201,
          ),
        ),
      );
      const result = await checked(`tutorial refresh (${variant})`, {
        origin: app.origin,
        connections: settings.connections,
        durationS: settings.tutorialS,
        timeoutS: 60,
        requests: refreshRequests(sessions),
      });
      const parameters =
        variant === 'owasp'
          ? `our parameters, m=${ARGON2.memoryCost} KiB, t=${ARGON2.timeCost}, p=${ARGON2.parallelism}`
          : 'the `argon2` package defaults the tutorials use, m=65536 KiB, t=3, p=4';
      // Its first answers take seconds: the rate of the second half is its steady rate.
      const times = ours ? ours.rps / result.steadyRps : NaN;
      figures.push({
        figure: `tutorial design (argon2 hash of the refresh token on the user row; ${parameters}), same ${settings.connections} sessions: refreshes/s over the second half of ${settings.tutorialS} s (p50 / p99)`,
        result: `${result.steadyRps.toFixed(1)}/s (${ms(result.p50)} / ${ms(result.p99)}); ours: **${times.toFixed(0)}x**`,
        target: variant === 'library-defaults' ? 'ours >= 100x' : undefined,
        met: variant === 'library-defaults' && ours ? times >= 100 : undefined,
      });
    } finally {
      await app.stop();
    }
  }
  return figures;
}

/**
 * Logins, and the guarded probe while they run, with libuv pools of several sizes: a service
 * per size and round, the sizes interleaved within each round (the figures are medians).
 */
async function measurePoolSizes(
  startService: (name: string, env?: Record<string, string>) => Promise<RunningProcess>,
  users: BenchUser[],
  accessTokens: string[],
  settings: Settings,
): Promise<Figure[]> {
  const runs = new Map<number, { logins: Measured; probe: LoadResult }[]>(
    settings.poolSizes.map((size) => [size, []]),
  );
  for (let round = 0; round < settings.poolRounds; round++) {
    for (const size of settings.poolSizes) {
      const service = await startService(`service-pool-${size}-${round}`, {
        UV_THREADPOOL_SIZE: String(size),
      });
      try {
        const spec = (seconds: number) => loginSpec(service.origin, users, settings, seconds);
        await checked(`pool ${size}: logins (warm-up)`, spec(settings.warmupS));
        const logins = await checked(`pool ${size}: logins`, spec(settings.roundS), service);
        const [, probe] = await Promise.all([
          checked(`pool ${size}: logins with probe`, spec(settings.roundS)),
          checked(`pool ${size}: guarded probe with logins`, {
            origin: service.origin,
            connections: settings.probe.connections,
            durationS: settings.roundS,
            overallRate: settings.probe.rate,
            requests: bearerRequests('/demo/private', accessTokens),
          }),
        ]);
        runs.get(size)!.push({ logins, probe });
      } finally {
        await service.stop();
      }
    }
  }
  return settings.poolSizes.map((size) => {
    const of = runs.get(size)!;
    return {
      figure: `UV_THREADPOOL_SIZE=${size}: logins/s, ${settings.loginClients} clients / guarded p99 during logins`,
      result: `${median(of.map((r) => r.logins.rps)).toFixed(1)}/s / ${ms(median(of.map((r) => r.probe.p99)))}`,
    };
  });
}

/**
 * Runs a load and refuses results that show the bench or the service is broken. With `server`,
 * also measures the server's CPU time per successful response, which other jobs on the machine
 * disturb less than throughput.
 */
async function checked(label: string, spec: LoadSpec, server?: RunningProcess): Promise<Measured> {
  const cpuBefore = server?.cpuSeconds() ?? NaN;
  const result: Measured = await runLoad(spec);
  result.cpuUs = (((server?.cpuSeconds() ?? NaN) - cpuBefore) * 1e6) / result.ok;
  log(
    `${label}: ${result.rps.toFixed(1)} req/s, p50 ${ms(result.p50)}, p99 ${ms(result.p99)}` +
      (Number.isNaN(result.cpuUs) ? '' : `, server CPU ${result.cpuUs.toFixed(0)} µs/response`) +
      (result.status5xx || result.errors
        ? `, ${result.status5xx} 5xx, ${result.errors} errors`
        : ''),
  );
  if (result.status4xx > 0) {
    throw new Error(
      `${label}: ${result.status4xx} responses were 4xx; the bench or the service is broken.`,
    );
  }
  if (result.ok === 0) throw new Error(`${label}: no successful response.`);
  return result;
}

function describeCommand(serverUrl: string | undefined, quick: boolean, only?: string[]): string {
  const url = serverUrl ? new URL(serverUrl) : undefined;
  if (url) url.password = url.password ? '***' : '';
  const args = [quick ? '--quick' : '', only ? `--only ${only.join(',')}` : ''].filter(Boolean);
  return `${url ? `DATABASE_URL=${url.toString()} ` : ''}npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`;
}

async function describeMachine(serverUrl: string | undefined): Promise<string> {
  const cpus = os.cpus();
  const parts = [
    `${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${os.availableParallelism()} cores`,
    `${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM`,
    `${os.type()} ${os.release()}`,
    `Node ${process.version}`,
  ];
  if (serverUrl) {
    const { Client } = await import('pg');
    const client = new Client({ connectionString: serverUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
      parts.push(`PostgreSQL ${rows[0].server_version} on the same machine`);
    } finally {
      await client.end();
    }
  } else {
    parts.push('embedded PGlite');
  }
  return parts.join('; ');
}

function describeCommit(): string {
  try {
    const git = (...args: string[]) =>
      execFileSync('git', args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] });
    const commit = git('rev-parse', '--short', 'HEAD').toString().trim();
    const dirty = git('status', '--porcelain', '--untracked-files=no').toString().trim();
    return dirty ? `${commit} with uncommitted changes` : commit;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

const ms = (value: number) =>
  value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(1)} ms`;
const rate = (value: number) => Math.round(value).toLocaleString('en-US');
const count = (value: number) => value.toLocaleString('en-US');
const ratio = (value: number) => value.toFixed(2);
const spread = (values: number[]) =>
  values.length > 1 ? ` (rounds ${ratio(Math.min(...values))}-${ratio(Math.max(...values))})` : '';

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killStartedProcesses();
    process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
  });
}

main().catch((error: unknown) => {
  killStartedProcesses();
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
