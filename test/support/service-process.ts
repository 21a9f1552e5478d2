import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './listening-app';
import { sleep } from './time';

/**
 * The built service (`node dist/src/main.js`) as a child process on a loopback port, with its
 * whole stdout and stderr kept: for the tests that need the real process (its logs, its
 * signals), not an app inside Jest.
 */

export const ROOT = join(__dirname, '..', '..');
export const MAIN = join(ROOT, 'dist', 'src', 'main.js');
const READY_TIMEOUT_MS = 60_000;

/** Builds the service when `dist/src/main.js` is missing (a stale build is the caller's choice). */
export function ensureBuilt(): void {
  if (!existsSync(MAIN)) {
    execFileSync('npx', ['nest', 'build'], { cwd: ROOT, stdio: 'ignore', timeout: 240_000 });
  }
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class ServiceProcess {
  private stdoutText = '';
  private stderrText = '';
  readonly exited: Promise<Exit>;

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {
    child.stdout?.on('data', (chunk: Buffer) => (this.stdoutText += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.stderrText += chunk.toString()));
    // 'close', not 'exit': the process's last output may still be in the pipes at 'exit'.
    this.exited = new Promise((resolve) =>
      child.once('close', (code, signal) => resolve({ code, signal })),
    );
  }

  /**
   * Starts the service with only `env` on top of a minimal environment (nothing leaks in from
   * the test's shell) and waits until `/health` answers 200; again on another port when the
   * free port it picked got taken meanwhile.
   */
  static async start(env: Record<string, string>): Promise<ServiceProcess> {
    for (let attempt = 1; ; attempt += 1) {
      const port = await freePort();
      const child = spawn(process.execPath, [MAIN], {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? ROOT,
          NODE_ENV: 'production',
          HOST: '127.0.0.1',
          PORT: String(port),
          AUTH_ISSUER: `http://127.0.0.1:${port}`,
          AUTH_COOKIE_SECURE: 'false',
          // Every request comes from one address: the rate limits are not under test here.
          AUTH_RATE_LIMIT: '1000000',
          AUTH_LOGIN_MAX_FAILURES: '1000000',
          ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const service = new ServiceProcess(child, `http://127.0.0.1:${port}`);
      try {
        await service.waitReady();
        return service;
      } catch (error) {
        await service.stop();
        if (attempt >= 3 || !service.output.includes('EADDRINUSE')) throw error;
      }
    }
  }

  /** False once the process has exited (its output may still be arriving). */
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Everything the process wrote to stdout. */
  get stdout(): string {
    return this.stdoutText;
  }

  /** Everything the process wrote to stderr. */
  get stderr(): string {
    return this.stderrText;
  }

  /** stdout and stderr together (stdout first). */
  get output(): string {
    return this.stdoutText + this.stderrText;
  }

  /** The non-empty lines of stdout and stderr. */
  lines(): string[] {
    return this.output.split('\n').filter((line) => line.trim() !== '');
  }

  /** The last lines the process wrote, for failure messages. */
  tail(chars = 4_000): string {
    return this.output.slice(-chars);
  }

  private async waitReady(): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`service exited before it was ready:\n${this.tail()}`);
      try {
        const response = await fetch(`${this.url}/health`, { signal: AbortSignal.timeout(2_000) });
        await response.arrayBuffer();
        if (response.status === 200) return;
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    throw new Error(`service not ready within ${READY_TIMEOUT_MS} ms:\n${this.tail()}`);
  }

  kill(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  /** Waits for the exit; undefined when the process is still running after `ms`. */
  async waitExit(ms: number): Promise<Exit | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), ms);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGTERM, then SIGKILL when the process is still there after `graceMs`. */
  async stop(graceMs = 10_000): Promise<Exit> {
    this.kill('SIGTERM');
    if (!(await this.waitExit(graceMs))) this.kill('SIGKILL');
    return this.exited;
  }
}
