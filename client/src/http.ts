/** The `error` parameter of a `WWW-Authenticate` challenge (RFC 6750 §3), if any. */
export function wwwAuthenticateError(header: string | null): string | undefined {
  if (!header) return undefined;
  const match = /(?:^|[\s,])error\s*=\s*(?:"([^"]*)"|([^\s,]+))/i.exec(header);
  return match ? (match[1] ?? match[2]) : undefined;
}

/**
 * `Retry-After` in milliseconds: delta-seconds, or an HTTP date taken relative to the response's
 * own `Date` (both are the server's clock, so local clock skew does not matter).
 */
export function parseRetryAfter(headers: Headers, now: number): number | undefined {
  const value = headers.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  if (Number.isNaN(at)) return undefined;
  const serverNow = Date.parse(headers.get('date') ?? '');
  return Math.max(0, at - (Number.isNaN(serverNow) ? now : serverNow));
}

/** True for `https://…`, `http://…`, `//host/…` and other scheme-qualified URLs. */
export function isAbsoluteUrl(url: string): boolean {
  return /^(?:[a-z][a-z\d+.-]*:|\/\/)/i.test(url);
}

/** `base` + `path` with exactly one slash between them (a base path such as `/api` is kept). */
export function joinUrl(base: string, path: string): string {
  if (!base) return path;
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}

/** The origin of `url` (resolved against `base` when relative), or null. */
export function originOf(url: string, base?: string): string | null {
  try {
    const origin = new URL(url, base).origin;
    return origin === 'null' ? null : origin;
  } catch {
    return null;
  }
}
