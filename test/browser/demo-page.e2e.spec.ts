import { existsSync, mkdirSync } from 'node:fs';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { PASSWORD, register, uniqueEmail } from '../support/auth-client';
import { ensureDemoPageBuilt } from '../support/demo-page';
import { createListeningTestApp, type ListeningApp } from '../support/listening-app';
import { sleep } from '../support/time';

/**
 * Issue 7, point 3: the demo page (client/demo, on the SDK's cookie transport) in real Chromium
 * against the real service on a real port: sign-up and sign-in through the form, a reload that
 * keeps the session through the HttpOnly cookie with no token readable by scripts, two tabs that
 * share one refresh, revocation and "Sign out everywhere" reaching another browser, a 503 during
 * a refresh, and no Content-Security-Policy violation anywhere (helmet's strict default holds).
 *
 * Debian's chromium (/usr/bin/chromium; .ci/run installs it). Without it this suite fails,
 * unless SKIP_BROWSER_TESTS=1 says to skip it.
 */

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = join(__dirname, '..', '..', '.artifacts', 'browser', 'signed-in.png');
/** Access tokens live 6 s: the SDK refreshes at half their lifetime, every 3 s. */
const ACCESS_TTL_SECONDS = 6;
const REFRESH_EVERY_MS = (ACCESS_TTL_SECONDS * 1000) / 2;
/** The SDK's attempts per refresh round (client/src: DEFAULT_RETRY.maxAttempts). */
const REFRESH_ATTEMPTS_PER_ROUND = 4;

const skipped = process.env.SKIP_BROWSER_TESTS === '1';

/**
 * Sees every `POST /auth/refresh` that reaches the service and how it was answered, and can
 * answer the next ones 503 itself, as an overloaded service or its proxy would. It wraps the
 * HTTP server's request listener: Fastify takes no new hooks once it listens.
 */
class RefreshProbe {
  /** Refresh requests that reached the server, answered or not. */
  arrivals = 0;
  /** Their answers, in the order they were sent, with the time they were sent. */
  readonly answers: { status: number; at: number }[] = [];
  /** How many of the next refreshes answer 503 without reaching the service. */
  unavailable = 0;

  constructor(server: Server) {
    const service = server.listeners('request') as RequestListener[];
    server.removeAllListeners('request');
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      if (request.method === 'POST' && request.url?.split('?')[0] === '/auth/refresh') {
        this.arrivals += 1;
        response.once('finish', () =>
          this.answers.push({ status: response.statusCode, at: Date.now() }),
        );
        if (this.unavailable > 0) {
          this.unavailable -= 1;
          response.writeHead(503, { 'Content-Type': 'application/json', 'Retry-After': '1' });
          response.end(JSON.stringify({ statusCode: 503, message: 'Service Unavailable' }));
          return;
        }
      }
      for (const listener of service) listener.call(server, request, response);
    });
  }

  statuses(): number[] {
    return this.answers.map((answer) => answer.status);
  }

  lastSuccessAt(): number {
    return this.answers.filter((answer) => answer.status === 200).at(-1)?.at ?? 0;
  }
}

async function until(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

(skipped ? describe.skip : describe)('demo page in Chromium', () => {
  let app: ListeningApp;
  let probe: RefreshProbe;
  let browser: Browser;
  /** Contexts a test opened; closed after it. */
  let contexts: BrowserContext[] = [];
  /** CSP violations and uncaught errors of every page; each test must end with none. */
  let problems: string[] = [];
  /** Every access token the service issued to the browser. */
  const accessTokens = new Set<string>();

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium; .ci/run ` +
          'does), or set SKIP_BROWSER_TESTS=1 to skip the browser tests.',
      );
    }
    ensureDemoPageBuilt();
    app = await createListeningTestApp({
      AUTH_ACCESS_TTL: String(ACCESS_TTL_SECONDS),
      // An expired token is refused at once: the page must refresh on time, not within leeway.
      AUTH_CLOCK_TOLERANCE: '0',
    });
    probe = new RefreshProbe(app.app.getHttpServer());
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  afterEach(async () => {
    const opened = contexts;
    contexts = [];
    await Promise.all(opened.map((context) => context.close()));
    const seen = problems;
    problems = [];
    expect(seen).toEqual([]);
  });

  /** A fresh browser profile (its own cookies and storage): another device. */
  async function newDevice(): Promise<BrowserContext> {
    const context = await browser.newContext({ viewport: { width: 900, height: 760 } });
    contexts.push(context);
    await context.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (event) => {
        console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI}`);
      });
    });
    context.on('response', (response) => {
      if (!/\/auth\/(login|refresh)$/.test(response.url()) || response.status() !== 200) return;
      void response
        .json()
        .then((body: { access_token: string; refresh_token?: string }) => {
          accessTokens.add(body.access_token);
          // Cookie transport: the refresh token is only ever in the HttpOnly cookie.
          if (body.refresh_token !== undefined) problems.push('refresh_token in a response body');
        })
        .catch(() => undefined);
    });
    return context;
  }

  /** Opens the page in `context` and waits until it has restored the session or not. */
  async function openPage(context: BrowserContext): Promise<Page> {
    const page = await context.newPage();
    page.on('console', (message) => {
      if (/content.security.policy|CSP violation/i.test(message.text())) {
        problems.push(message.text());
      }
    });
    page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
    await page.goto(app.issuer);
    await page
      .locator('#signed-in:not([hidden]), #signed-out:not([hidden])')
      .waitFor({ state: 'visible' });
    return page;
  }

  const field = (page: Page, label: string) => page.getByLabel(label, { exact: true });
  const button = (page: Page, name: string) => page.getByRole('button', { name, exact: true });

  async function fillCredentials(page: Page, email: string, password = PASSWORD): Promise<void> {
    await field(page, 'Email').fill(email);
    await field(page, 'Password').fill(password);
  }

  async function expectSignedIn(page: Page, email: string): Promise<void> {
    await page.getByRole('heading', { name: 'Sessions' }).waitFor({ state: 'visible' });
    expect(await page.locator('#user-email').textContent()).toBe(email);
    expect(await button(page, 'Sign in').isVisible()).toBe(false);
  }

  async function expectSignedOut(page: Page): Promise<void> {
    await button(page, 'Sign in').waitFor({ state: 'visible' });
    expect(await page.getByRole('heading', { name: 'Sessions' }).isVisible()).toBe(false);
  }

  /** Registers through the page ("Create account" registers, then signs in). */
  async function signUp(page: Page, email = uniqueEmail('browser')): Promise<string> {
    await fillCredentials(page, email);
    await button(page, 'Create account').click();
    await expectSignedIn(page, email);
    return email;
  }

  async function signIn(page: Page, email: string): Promise<void> {
    await fillCredentials(page, email);
    await button(page, 'Sign in').click();
    await expectSignedIn(page, email);
  }

  /** The rows of the Sessions list, once loaded. */
  async function sessionRows(page: Page) {
    const list = page.locator('#session-list[aria-busy="false"]');
    await list.waitFor({ state: 'attached' });
    return list.getByRole('listitem').all();
  }

  /** Neither `document.cookie` nor Web Storage holds a token; the cookie is HttpOnly. */
  async function expectNoTokenReadableByScripts(page: Page): Promise<void> {
    const readable = await page.evaluate(() =>
      JSON.stringify({
        cookie: document.cookie,
        localStorage: { ...localStorage },
        sessionStorage: { ...sessionStorage },
      }),
    );
    const cookies = await page.context().cookies();
    const refreshCookie = cookies.find((cookie) => cookie.name === 'refresh_token');
    expect(refreshCookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/auth' });
    expect(accessTokens.size).toBeGreaterThan(0);
    const secrets = [refreshCookie!.value, ...accessTokens];
    expect(secrets.filter((secret) => readable.includes(secret))).toEqual([]);
    expect(readable).not.toMatch(/eyJ[\w-]*\.[\w-]+\.[\w-]+/); // no JWT of any kind
    expect(JSON.parse(readable).cookie).toBe('');
  }

  it('creates an account and signs in through the form, keeps the session over a reload and refreshes, never readable by scripts', async () => {
    const context = await newDevice();
    const page = await openPage(context);
    await expectSignedOut(page);
    expect(await page.getByRole('alert').isVisible()).toBe(false);

    const email = await signUp(page);
    const rows = await sessionRows(page);
    expect(rows).toHaveLength(1);
    expect(await rows[0].textContent()).toMatch(
      /Chrome on Linux\s*this device\s*Last used just now/,
    );
    expect(await rows[0].getByRole('button', { name: 'Revoke' }).count()).toBe(0);
    await expectNoTokenReadableByScripts(page);

    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    console.log(`screenshot of the signed-in demo page: ${SCREENSHOT}`);

    // A reload keeps nothing in memory: the session comes back through the cookie alone.
    const before = probe.arrivals;
    await page.reload();
    await expectSignedIn(page, email);
    expect(probe.arrivals).toBeGreaterThan(before);
    await expectNoTokenReadableByScripts(page);

    // The scheduled refresh, then an authenticated request with its token.
    const arrivals = probe.arrivals;
    await until('a scheduled refresh', () => probe.arrivals > arrivals, REFRESH_EVERY_MS + 3_000);
    await until('its answer', () => probe.answers.length >= probe.arrivals);
    expect(probe.answers.at(-1)?.status).toBe(200);
    await button(page, 'Reload sessions').click();
    expect(await sessionRows(page)).toHaveLength(1);
    await expectNoTokenReadableByScripts(page);

    // The CSP is enforced and a violation would be seen: an injected inline script is refused.
    // (The reset below forgets the violation it causes, and only that: nothing may precede it.)
    expect(problems).toEqual([]);
    await page.evaluate(() => {
      const script = document.createElement('script');
      script.textContent = 'document.title = "inline ran"';
      document.body.append(script);
    });
    const reported = () => problems.some((problem) => /^CSP violation: script-src/.test(problem));
    await until('the CSP violation report', reported, 5_000);
    await sleep(200);
    expect(await page.title()).toBe('nest-token-auth demo');
    problems = [];

    await button(page, 'Sign out').click();
    await expectSignedOut(page);
    await page.reload();
    await expectSignedOut(page);
  }, 60_000);

  it('shows a wrong password, a taken email and a short password in the alert', async () => {
    const { email } = await register(app, uniqueEmail('taken'));
    const page = await openPage(await newDevice());

    await fillCredentials(page, email, 'not the password');
    await button(page, 'Sign in').click();
    const alert = page.getByRole('alert');
    await alert.waitFor({ state: 'visible' });
    expect(await alert.textContent()).toBe('Wrong email or password.');

    await fillCredentials(page, email);
    await button(page, 'Create account').click();
    await alert.filter({ hasText: 'already exists' }).waitFor({ state: 'visible' });
    expect(await alert.textContent()).toBe(
      'An account with this email already exists. Sign in instead.',
    );
    await expectSignedOut(page);

    await fillCredentials(page, uniqueEmail('short'), 'short');
    await button(page, 'Create account').click();
    await alert.filter({ hasText: 'longer than' }).waitFor({ state: 'visible' });
    expect(await alert.textContent()).toBe(
      'Password must be longer than or equal to 8 characters.',
    );

    await fillCredentials(page, email);
    await button(page, 'Sign in').click();
    await expectSignedIn(page, email);
    expect(await alert.isVisible()).toBe(false);
  }, 60_000);

  it('refreshes once for two tabs holding the same access token, and both go on working with it', async () => {
    const context = await newDevice();
    const first = await openPage(context);
    const email = await signUp(first);
    // The second tab restores through the cookie; the first adopts the token it got.
    const second = await openPage(context);
    await expectSignedIn(second, email);
    await sleep(300);

    // Which tab sent each refresh, for the failure message.
    const start = Date.now();
    const senders: string[] = [];
    for (const [name, page] of [
      ['first tab', first],
      ['second tab', second],
    ] as const) {
      page.on('request', (request) => {
        if (request.url().endsWith('/auth/refresh'))
          senders.push(`${name} +${Date.now() - start} ms`);
      });
    }
    const before = probe.arrivals;
    const refreshResponse = context.waitForEvent('response', {
      predicate: (response) => response.url().endsWith('/auth/refresh'),
      timeout: REFRESH_EVERY_MS + 3_000,
    });
    const refreshed = ((await (await refreshResponse).json()) as { access_token: string })
      .access_token;
    await sleep(1_000); // a second refresh, from the other tab, would have come by now
    if (probe.arrivals - before !== 1) {
      throw new Error(
        `${probe.arrivals - before} refresh requests reached the service for one token shared by ` +
          `two tabs (${senders.join(', ')}): the tabs did not share the refresh (client/src, crossTab)`,
      );
    }
    expect(probe.statuses().at(-1)).toBe(200);

    const bearers: string[] = [];
    context.on('request', (request) => {
      if (request.url().endsWith('/auth/sessions')) {
        bearers.push(request.headers().authorization ?? '');
      }
    });
    await Promise.all([first, second].map((page) => button(page, 'Reload sessions').click()));
    for (const page of [first, second]) {
      expect(await sessionRows(page)).toHaveLength(1);
      expect(await page.getByRole('alert').isVisible()).toBe(false);
    }
    expect(bearers).toEqual([`Bearer ${refreshed}`, `Bearer ${refreshed}`]);
    expect(probe.arrivals - before).toBe(1);
  }, 60_000);

  it('signs a device out at its next request when another revokes its session', async () => {
    const { email } = await register(app, uniqueEmail('revoke'));
    const laptop = await openPage(await newDevice());
    await signIn(laptop, email);
    const phone = await openPage(await newDevice());
    await signIn(phone, email);

    await button(laptop, 'Reload sessions').click();
    const rows = await sessionRows(laptop);
    expect(rows).toHaveLength(2);
    const revoke = button(laptop, 'Revoke');
    expect(await revoke.count()).toBe(1); // on the phone's session, not on this one
    await revoke.click();
    await laptop.getByText('Session revoked').waitFor({ state: 'visible' });
    expect(await sessionRows(laptop)).toHaveLength(1);

    await nextRequest(phone);
    await expectSignedOut(phone);
    expect(await phone.getByRole('status').textContent()).toMatch(/ended from another device/);
    expect(await phone.getByRole('alert').isVisible()).toBe(false);
    await expectSignedIn(laptop, email);
  }, 60_000);

  it('"Sign out everywhere" signs the other devices out too', async () => {
    const { email } = await register(app, uniqueEmail('all'));
    const laptop = await openPage(await newDevice());
    await signIn(laptop, email);
    const phone = await openPage(await newDevice());
    await signIn(phone, email);

    await button(laptop, 'Sign out everywhere').click();
    await expectSignedOut(laptop);
    expect(await laptop.getByRole('status').textContent()).toBe('You signed out on every device.');

    await nextRequest(phone);
    await expectSignedOut(phone);
    await phone.reload();
    await expectSignedOut(phone);
    await laptop.reload();
    await expectSignedOut(laptop);
  }, 60_000);

  it('keeps the user signed in through a 503 during a refresh, and the next refresh succeeds', async () => {
    const page = await openPage(await newDevice());
    await signUp(page);

    // One 503: the SDK retries within the round.
    let from = probe.answers.length;
    probe.unavailable = 1;
    await until(
      'a 503 and then a successful refresh',
      () => probe.statuses().slice(from).join() === '503,200',
    );
    await button(page, 'Reload sessions').click();
    expect(await sessionRows(page)).toHaveLength(1);

    // A whole round of 503s: the page says so and stays signed in.
    from = probe.answers.length;
    probe.unavailable = REFRESH_ATTEMPTS_PER_ROUND;
    await page
      .getByText('Refreshing the session failed')
      .waitFor({ state: 'visible', timeout: 15_000 });
    expect(probe.statuses().slice(from)).toEqual(Array(REFRESH_ATTEMPTS_PER_ROUND).fill(503));
    expect(await page.getByRole('heading', { name: 'Sessions' }).isVisible()).toBe(true);
    expect(await button(page, 'Sign in').isVisible()).toBe(false);

    // Once the access token has expired, the next request refreshes, successfully.
    const expiresAt = probe.lastSuccessAt() + ACCESS_TTL_SECONDS * 1000;
    await sleep(Math.max(0, expiresAt - Date.now() + 500));
    from = probe.answers.length;
    await button(page, 'Reload sessions').click();
    expect(await sessionRows(page)).toHaveLength(1);
    expect(probe.statuses().slice(from)).toEqual([200]);
    expect(await page.getByRole('alert').isVisible()).toBe(false);
  }, 60_000);

  /** The page's next request to the service: a sessions reload (unless its timer came first). */
  async function nextRequest(page: Page): Promise<void> {
    await button(page, 'Reload sessions')
      .click({ timeout: 2_000 })
      .catch(() => undefined);
  }
});
