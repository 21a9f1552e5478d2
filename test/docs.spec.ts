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
