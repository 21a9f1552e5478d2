import { ensureDemoPageBuilt } from './support/demo-page';
import { createTestApp, type TestApp } from './support/test-app';

/**
 * Issue 7, point 2: the service serves the demo page at `/` and its files under `/assets/`,
 * public, with helmet's strict CSP, and nothing else changes (the API and its 404s stay Nest's).
 * test/browser/demo-page.e2e.spec.ts drives the page itself in Chromium.
 */
describe('demo page', () => {
  let t: TestApp;

  beforeAll(async () => {
    ensureDemoPageBuilt();
    t = await createTestApp();
  });
  afterAll(() => t?.close());

  it('serves index.html at / with a strict CSP and no inline script or style', async () => {
    const response = await t.http().get('/').expect(200);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.headers['cache-control']).toBe('no-cache');
    const csp = response.headers['content-security-policy'];
    expect(csp).toMatch(/(^|;)\s*script-src 'self'(;|$)/);
    expect(csp).toMatch(/(^|;)\s*script-src-attr 'none'(;|$)/);
    expect(response.text).toContain('<script type="module" src="assets/app.js"></script>');
    expect(response.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(response.text).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
  });

  it.each([
    ['/assets/app.js', /^(text|application)\/javascript/],
    ['/assets/app.js.map', /^application\/json/],
    ['/assets/styles.css', /^text\/css/],
    ['/assets/favicon.svg', /^image\/svg\+xml/],
  ])('serves %s', async (path, type) => {
    const response = await t.http().get(path).expect(200);
    expect(response.headers['content-type']).toMatch(type);
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers.etag).toBeDefined();
  });

  it('revalidates with the ETag', async () => {
    const first = await t.http().get('/assets/app.js').expect(200);
    await t.http().get('/assets/app.js').set('If-None-Match', first.headers.etag).expect(304);
  });

  it('leaves every other path to the API: unknown ones answer its JSON 404', async () => {
    for (const path of ['/assets/missing.js', '/assets/../package.json', '/nope']) {
      const response = await t.http().get(path);
      expect(response.status).toBe(404);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
    }
    await t.http().get('/demo/public').expect(200);
    await t.http().get('/auth/me').expect(401);
  });
});
