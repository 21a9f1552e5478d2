// Builds the library that `npm pack` ships (`nest-token-auth`, `/testing`, `/keys`, `/passport`):
// src/auth compiled by tsc to CommonJS with declarations in dist/lib (tsconfig.lib.json). The
// service's own build (`nest build`, swc) is separate and never ships.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
rmSync(join(root, 'dist', 'lib'), { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.lib.json')], {
  cwd: root,
  stdio: 'inherit',
});
console.log('built dist/lib');
