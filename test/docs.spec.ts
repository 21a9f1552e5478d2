import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

/** The fenced code blocks of a Markdown file. */
function codeBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/```\w*\n([\s\S]*?)```/g)].map((match) => match[1].trimEnd());
}

describe('docs/RESOURCE-SERVER.md', () => {
  const blocks = codeBlocks(read('docs/RESOURCE-SERVER.md'));

  it.each([
    'examples/resource-server/verify-access-token.ts',
    'examples/resource-server/verify_access_token.py',
  ])('shows %s exactly as the tests run it', (path) => {
    expect(blocks).toContain(read(path).trimEnd());
  });
});

describe('README.md', () => {
  const blocks = codeBlocks(read('README.md'));

  it('shows the "Use it in your Nest app" code exactly as the Express example compiles it', () => {
    // The file's first two lines say what it is; the rest is the README's block, verbatim.
    const file = read('examples/express-host/src/readme-app.module.ts').split('\n').slice(2);
    expect(blocks).toContain(file.join('\n').trimEnd());
  });

  it('gets a host from npm install to a protected controller in at most 20 lines of code', () => {
    const code = read('examples/express-host/src/readme-app.module.ts')
      .split('\n')
      .slice(2)
      .filter((line) => line.trim() !== '');
    // `npm install nest-token-auth` is the one more line.
    expect(code.length + 1).toBeLessThanOrEqual(20);
  });
});
