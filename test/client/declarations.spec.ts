import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * The SDK's declarations, as `npm run build` publishes them (client/tsconfig.json, into
 * dist/client beside a `{"type":"module"}` package.json), type-check in a Node ESM TypeScript
 * project (`module` and `moduleResolution` `nodenext`) that imports `nest-token-auth/client`
 * through the package's `exports`. There, relative imports in ES modules need their file
 * extension: `export … from './auth-client'` in a declaration resolves to nothing, and every
 * export behind it is lost. Hence the `.js` in client/src's imports.
 */

const ROOT = join(__dirname, '..', '..');
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const run = promisify(execFile);

const CONSUMER = `import {
  AuthError,
  createAuthClient,
  memoryStorage,
  type AuthClient,
  type AuthUser,
  type CrossTabLocks,
} from 'nest-token-auth/client';

export const client: AuthClient = createAuthClient({
  baseUrl: 'https://auth.example.com',
  transport: 'body',
  storage: memoryStorage(),
  // The browser's Web Locks fit the interface the client asks for.
  locks: globalThis.navigator?.locks satisfies CrossTabLocks | undefined,
  onSessionEnded: (reason) => console.log(reason.toUpperCase()),
});
export const user: Promise<AuthUser | null> = client.restore();
export const refused = (error: unknown): boolean =>
  error instanceof AuthError && error.status === 401 && error.code === 'invalid_grant';
`;

async function tsc(args: string[], cwd: string): Promise<string> {
  try {
    await run(process.execPath, [TSC, ...args], { cwd, timeout: 60_000 });
    return '';
  } catch (error) {
    const { stdout, stderr, message } = error as { stdout?: string; stderr?: string } & Error;
    return `${stdout ?? ''}${stderr ?? ''}` || message;
  }
}

describe('client SDK: declarations', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sdk-declarations-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('type-check in a Node ESM project (moduleResolution nodenext)', async () => {
    // The package as installed: its exports, and the declarations built now from client/src.
    const installed = join(dir, 'node_modules', 'nest-token-auth');
    const declarations = join(installed, 'dist', 'client');
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    mkdirSync(declarations, { recursive: true });
    writeFileSync(
      join(installed, 'package.json'),
      JSON.stringify({ name: manifest.name, version: manifest.version, exports: manifest.exports }),
    );
    expect(
      await tsc(['-p', join(ROOT, 'client', 'tsconfig.json'), '--outDir', declarations], ROOT),
    ).toBe('');
    // scripts/build-client.mjs marks dist/client as ES modules.
    writeFileSync(join(declarations, 'package.json'), JSON.stringify({ type: 'module' }));

    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
    writeFileSync(join(dir, 'consumer.ts'), CONSUMER);
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          lib: ['es2022', 'dom'],
          types: [],
          strict: true,
          noEmit: true,
          skipLibCheck: false,
        },
        files: ['consumer.ts'],
      }),
    );

    expect(await tsc(['-p', join(dir, 'tsconfig.json')], dir)).toBe('');
  }, 60_000);
});
