import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { PASSWORD, uniqueEmail } from './support';

const SRC = join(__dirname, '..', 'src');

/** main.ts as `npm run start:prod` runs it, on a free port; resolves with its URL. */
async function startServer(): Promise<{ server: ChildProcess; url: string }> {
  const server = spawn(process.execPath, [join(SRC, 'main.js')], {
    env: { ...process.env, PORT: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // Read on 'data' (not with for-await) so that stdout keeps draining after the line is found.
  const url = await new Promise<string>((resolve, reject) => {
    let output = '';
    server.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const found = /listening on (http:\/\/\S+)/.exec(output)?.[1];
      if (found) resolve(found.replace('[::1]', '127.0.0.1'));
    });
    server.once('exit', () => reject(new Error(`main.js exited before listening:\n${output}`)));
  });
  return { server, url };
}

describe('the compiled app as a process: npm run seed, then npm run start:prod', () => {
  let server: ChildProcess;
  let url: string;

  before(async () => {
    ({ server, url } = await startServer());
  });
  after(async () => {
    if (server.exitCode === null && server.signalCode === null) {
      server.kill('SIGTERM');
      await once(server, 'exit');
    }
  });

  it('seeds a manager with the seed script and serves it over HTTP', async () => {
    const email = uniqueEmail('seeded');
    const { stdout } = await promisify(execFile)(process.execPath, [join(SRC, 'seed.js')], {
      env: { ...process.env, SEED_EMAIL: email, SEED_PASSWORD: PASSWORD, SEED_ROLES: 'manager' },
    });
    assert.match(stdout, new RegExp(`seeded ${email.toLowerCase()} .* roles=manager`));

    assert.deepEqual(await (await fetch(`${url}/status`)).json(), { status: 'up', userId: null });
    const login = await fetch(`${url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: PASSWORD }),
    });
    assert.equal(login.status, 200);
    const { access_token: accessToken } = (await login.json()) as { access_token: string };
    const report = await fetch(`${url}/orders/report`, {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    assert.equal(report.status, 200);
  });

  it('stops on SIGTERM', async () => {
    server.kill('SIGTERM');
    const [code, signal] = (await once(server, 'exit')) as [number | null, string | null];
    assert.ok(code === 0 || signal === 'SIGTERM', `exit ${code} ${signal}`);
  });
});
