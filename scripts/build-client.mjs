// Builds what the browser gets, after `nest build` (which empties dist/):
//   dist/public/         the demo page the service serves at `/`: index.html, and in assets/
//                        app.js (+ map), styles.css, favicon.svg
//   dist/client/         the SDK as an ES module (`nest-token-auth/client`), with declarations
//                        (client/tsconfig.json)
// `node scripts/build-client.mjs page` builds the demo page only (what the browser tests need).
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const demo = join(root, 'client', 'demo');
const publicDir = join(root, 'dist', 'public');
const clientDir = join(root, 'dist', 'client');
const pageOnly = process.argv.includes('page');

// Browsers of the last few years: native ESM, optional chaining, class fields, top-level await.
const browsers = ['chrome109', 'edge109', 'firefox115', 'safari16'];

async function buildPage() {
  rmSync(publicDir, { recursive: true, force: true });
  mkdirSync(join(publicDir, 'assets'), { recursive: true });
  await build({
    entryPoints: [join(demo, 'main.ts')],
    outfile: join(publicDir, 'assets', 'app.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: browsers,
    minify: true,
    sourcemap: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  copyFileSync(join(demo, 'index.html'), join(publicDir, 'index.html'));
  for (const asset of ['styles.css', 'favicon.svg']) {
    copyFileSync(join(demo, asset), join(publicDir, 'assets', asset));
  }
}

async function buildSdk() {
  rmSync(clientDir, { recursive: true, force: true });
  await build({
    entryPoints: [join(root, 'client', 'src', 'index.ts')],
    outfile: join(clientDir, 'index.js'),
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    sourcemap: true,
    logLevel: 'warning',
  });
  // ES module syntax in a .js file: this marker makes Node (and bundlers) read it as one, as the
  // package itself is CommonJS.
  writeFileSync(join(clientDir, 'package.json'), `${JSON.stringify({ type: 'module' })}\n`);
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const tsconfig = join(root, 'client', 'tsconfig.json');
  execFileSync(process.execPath, [tsc, '-p', tsconfig], { cwd: root, stdio: 'inherit' });
}

await buildPage();
if (!pageOnly) await buildSdk();
const built = pageOnly ? [publicDir] : [publicDir, clientDir];
console.log(`built ${built.map((dir) => relative(root, dir)).join(' and ')}`);
