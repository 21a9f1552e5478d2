// The demo page: sign in, see and end sessions, with the SDK's cookie transport. The access
// token stays in the SDK's memory; the refresh token in an HttpOnly cookie this code never sees.
import {
  AuthError,
  type AuthSession,
  type AuthUser,
  createAuthClient,
  type SessionEndReason,
} from '../src/index';

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`#${id} is missing from index.html`);
  return found as T;
}

const view = {
  status: element<HTMLParagraphElement>('status'),
  alert: element<HTMLParagraphElement>('error'),
  signedOut: element<HTMLElement>('signed-out'),
  signedIn: element<HTMLElement>('signed-in'),
  form: element<HTMLFormElement>('sign-in-form'),
  email: element<HTMLInputElement>('email'),
  password: element<HTMLInputElement>('password'),
  accountHeading: element<HTMLHeadingElement>('account-heading'),
  userEmail: element<HTMLElement>('user-email'),
  signOut: element<HTMLButtonElement>('sign-out'),
  signOutEverywhere: element<HTMLButtonElement>('sign-out-everywhere'),
  reloadSessions: element<HTMLButtonElement>('reload-sessions'),
  sessionList: element<HTMLUListElement>('session-list'),
};

const auth = createAuthClient({
  baseUrl: '',
  transport: 'cookie',
  device: describeDevice(navigator.userAgent),
  onSessionEnded: (reason) => showSignedOut(sessionEndedMessage(reason)),
  onError: (error) => {
    // A refresh that failed for a passing reason (server busy, network down) keeps the session.
    if (view.signedIn.hidden) return;
    const cause = error instanceof AuthError ? `the server answered ${error.status}` : 'no answer';
    setStatus(
      `Refreshing the session failed (${cause}). You are still signed in; it will try again.`,
    );
  },
});

/** True while this tab signs in by itself (page load, the form). */
let signingIn = false;

// Another tab signing in signs this one in too (its sign-out comes through onSessionEnded).
auth.subscribe(({ signedIn }) => {
  if (signedIn && !signingIn && view.signedIn.hidden) {
    auth.me().then(showSignedIn).catch(reportFailure);
  }
});

void start();

async function start(): Promise<void> {
  wireEvents();
  signingIn = true;
  try {
    const user = await auth.restore();
    if (user) await showSignedIn(user);
    else showSignedOut('');
  } catch (error) {
    showSignedOut('');
    showError(error);
  } finally {
    signingIn = false;
  }
}

function wireEvents(): void {
  view.form.addEventListener('submit', (event: SubmitEvent) => {
    event.preventDefault();
    const intent = event.submitter instanceof HTMLButtonElement ? event.submitter.value : 'sign-in';
    void busy(view.form, () => signIn(intent === 'create'));
  });
  view.signOut.addEventListener('click', () => {
    void busy(view.signedIn, async () => {
      await auth.logout();
      showSignedOut('You signed out.');
    });
  });
  view.signOutEverywhere.addEventListener('click', () => {
    void busy(view.signedIn, async () => {
      await auth.logoutAll();
      showSignedOut('You signed out on every device.');
    });
  });
  view.reloadSessions.addEventListener('click', () => {
    void busy(view.signedIn, loadSessions);
  });
  view.sessionList.addEventListener('click', (event) => {
    const button = (event.target as Element).closest<HTMLButtonElement>('button[data-session]');
    if (!button?.dataset.session) return;
    const sessionId = button.dataset.session;
    void busy(view.signedIn, async () => {
      await auth.revokeSession(sessionId);
      setStatus('Session revoked: that device is signed out at its next request.');
      await loadSessions();
    });
  });
}

async function signIn(createAccount: boolean): Promise<void> {
  const credentials = { email: view.email.value.trim(), password: view.password.value };
  signingIn = true;
  try {
    if (createAccount) await auth.register(credentials);
    const user = await auth.login(credentials);
    view.password.value = '';
    await showSignedIn(user);
    view.accountHeading.focus();
  } finally {
    signingIn = false;
  }
}

/** Shows the account; a failure to list the sessions is reported, the user stays signed in. */
async function showSignedIn(user: AuthUser): Promise<void> {
  clearError();
  setStatus('');
  view.userEmail.textContent = user.email;
  view.signedOut.hidden = true;
  view.signedIn.hidden = false;
  await loadSessions().catch(reportFailure);
}

function showSignedOut(message: string): void {
  const wasSignedIn = !view.signedIn.hidden;
  view.signedIn.hidden = true;
  view.signedOut.hidden = false;
  view.sessionList.replaceChildren();
  view.userEmail.textContent = '';
  setStatus(message);
  if (wasSignedIn) view.email.focus();
}

async function loadSessions(): Promise<void> {
  view.sessionList.setAttribute('aria-busy', 'true');
  try {
    const sessions = await auth.sessions();
    // The SDK may have ended the session meanwhile (a 401 it could not refresh past).
    if (!auth.signedIn) return;
    view.sessionList.replaceChildren(...sortSessions(sessions).map(renderSession));
  } finally {
    view.sessionList.setAttribute('aria-busy', 'false');
  }
}

/** This device first, then the most recently used. */
function sortSessions(sessions: AuthSession[]): AuthSession[] {
  return [...sessions].sort(
    (a, b) =>
      Number(b.current) - Number(a.current) || Date.parse(b.lastUsedAt) - Date.parse(a.lastUsedAt),
  );
}

function renderSession(session: AuthSession): HTMLLIElement {
  const item = document.createElement('li');
  item.className = 'session';
  const details = document.createElement('div');
  const device = document.createElement('span');
  device.className = 'session-device';
  device.id = `session-${session.id}`;
  device.textContent = session.device ?? describeDevice(session.userAgent ?? '');
  details.append(device);
  if (session.current) details.append(badge('this device'));

  const meta = document.createElement('span');
  meta.className = 'session-meta';
  const lastUsed = document.createElement('time');
  lastUsed.dateTime = session.lastUsedAt;
  lastUsed.title = new Date(session.lastUsedAt).toLocaleString();
  lastUsed.textContent = relativeTime(session.lastUsedAt);
  meta.append('Last used ', lastUsed);
  if (session.ip) meta.append(` · ${session.ip}`);
  details.append(meta);
  item.append(details);

  if (!session.current) {
    const revoke = document.createElement('button');
    revoke.type = 'button';
    revoke.textContent = 'Revoke';
    revoke.dataset.session = session.id;
    revoke.setAttribute('aria-describedby', device.id);
    item.append(revoke);
  }
  return item;
}

function badge(text: string): HTMLSpanElement {
  const span = document.createElement('span');
  span.className = 'badge';
  span.textContent = text;
  return span;
}

/** Runs `work` with the buttons of `region` disabled; its error goes to the alert. */
async function busy(region: HTMLElement, work: () => Promise<void>): Promise<void> {
  const buttons = [...region.querySelectorAll('button')];
  buttons.forEach((button) => (button.disabled = true));
  clearError();
  setStatus('');
  try {
    await work();
  } catch (error) {
    if (region === view.form) showError(error);
    else reportFailure(error);
  } finally {
    buttons.forEach((button) => (button.disabled = false));
  }
}

/**
 * What went wrong in a signed-in action, unless it is the session's end: a 401 there means the
 * SDK could not refresh past it, and onSessionEnded has already said so.
 */
function reportFailure(error: unknown): void {
  if (!(error instanceof AuthError && error.status === 401)) showError(error);
}

function setStatus(message: string): void {
  view.status.textContent = message;
}

function showError(error: unknown): void {
  view.alert.textContent = describeError(error);
  view.alert.hidden = false;
}

function clearError(): void {
  view.alert.hidden = true;
  view.alert.textContent = '';
}

function describeError(error: unknown): string {
  if (!(error instanceof AuthError)) return 'The server could not be reached. Try again.';
  switch (error.status) {
    case 401:
      return 'Wrong email or password.';
    case 403:
      return 'New accounts are not accepted here.';
    case 409:
      return 'An account with this email already exists. Sign in instead.';
    case 429:
      return 'Too many attempts. Wait a moment and try again.';
    default: {
      if (error.status >= 500) return 'The server is unavailable right now. Try again in a moment.';
      // The service's own words ("password must be longer than…"), without the SDK's status prefix.
      const detail = error.message.replace(/^\d{3}\s*/, '');
      return detail
        ? `${detail[0].toUpperCase()}${detail.slice(1)}.`
        : `Request failed (${error.status}).`;
    }
  }
}

function sessionEndedMessage(reason: SessionEndReason): string {
  switch (reason) {
    case 'logout':
      return 'You are signed out.';
    case 'expired':
      return 'Your session expired. Sign in again.';
    default:
      return 'Your session was ended from another device, or by signing out everywhere. Sign in again.';
  }
}

/** "Chrome on Linux": a readable name for a session, from a User-Agent string. */
function describeDevice(userAgent: string): string {
  const browser = /Edg\//.test(userAgent)
    ? 'Edge'
    : /Firefox\//.test(userAgent)
      ? 'Firefox'
      : /Chrom(e|ium)\//.test(userAgent)
        ? 'Chrome'
        : /Safari\//.test(userAgent)
          ? 'Safari'
          : 'Browser';
  const os = /Android/.test(userAgent)
    ? 'Android'
    : /iPhone|iPad/.test(userAgent)
      ? 'iOS'
      : /Mac OS X/.test(userAgent)
        ? 'macOS'
        : /Windows/.test(userAgent)
          ? 'Windows'
          : /Linux|X11/.test(userAgent)
            ? 'Linux'
            : 'an unknown system';
  return `${browser} on ${os}`;
}

const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });

/** "just now", "5 minutes ago", "yesterday". */
function relativeTime(iso: string): string {
  const seconds = (Date.parse(iso) - Date.now()) / 1000;
  if (Math.abs(seconds) < 45) return 'just now';
  const units: [Intl.RelativeTimeFormatUnit, number][] = [
    ['minute', 60],
    ['hour', 3600],
    ['day', 86400],
  ];
  let [unit, size] = units[0];
  for (const [candidate, candidateSize] of units) {
    if (Math.abs(seconds) >= candidateSize) [unit, size] = [candidate, candidateSize];
  }
  return relative.format(Math.round(seconds / size), unit);
}
