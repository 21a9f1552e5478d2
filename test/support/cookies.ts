import type { Response } from 'supertest';

/** One `Set-Cookie` header, split into its name, value and attributes (keys lower-cased). */
export interface SetCookie {
  name: string;
  value: string;
  attributes: Record<string, string | true>;
}

/** Every `Set-Cookie` header of a response, parsed. */
export function setCookies(response: Response): SetCookie[] {
  const raw = response.headers['set-cookie'] as string[] | string | undefined;
  const headers = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  return headers.map((header) => {
    const [pair, ...attributes] = header.split(';').map((part) => part.trim());
    const eq = pair.indexOf('=');
    return {
      name: pair.slice(0, eq),
      value: pair.slice(eq + 1),
      attributes: Object.fromEntries(
        attributes.map((attribute) => {
          const at = attribute.indexOf('=');
          return at === -1
            ? [attribute.toLowerCase(), true]
            : [attribute.slice(0, at).toLowerCase(), attribute.slice(at + 1)];
        }),
      ),
    };
  });
}

/** The single `refresh_token` cookie the response sets; fails when there is not exactly one. */
export function refreshCookie(response: Response): SetCookie {
  const cookies = setCookies(response).filter((cookie) => cookie.name === 'refresh_token');
  expect(cookies).toHaveLength(1);
  return cookies[0];
}
