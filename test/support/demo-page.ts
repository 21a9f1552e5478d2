import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO_PAGE_DIR } from '../../src/demo/demo-page';

const ROOT = join(__dirname, '..', '..');
const BUILD_SCRIPT = join(ROOT, 'scripts', 'build-client.mjs');

/**
 * Builds the demo page into dist/public (`scripts/build-client.mjs page`, about a second) when it
 * is missing or older than its sources, so the tests that serve it never depend on an earlier
 * `npm run build`, nor test a stale one. Call it before starting the app: the app serves the
 * files present when it starts.
 */
export function ensureDemoPageBuilt(): void {
  const bundle = join(DEMO_PAGE_DIR, 'assets', 'app.js');
  const builtAt = existsSync(bundle) ? statSync(bundle).mtimeMs : 0;
  const sources = [
    BUILD_SCRIPT,
    ...files(join(ROOT, 'client', 'demo')),
    ...files(join(ROOT, 'client', 'src')),
  ];
  if (sources.every((source) => statSync(source).mtimeMs < builtAt)) return;
  try {
    execFileSync(process.execPath, [BUILD_SCRIPT, 'page'], {
      cwd: ROOT,
      stdio: 'pipe',
      timeout: 120_000,
    });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(
      `building the demo page failed:\n${String(stdout ?? '')}${String(stderr ?? '')}`,
      { cause: error },
    );
  }
}

function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}
