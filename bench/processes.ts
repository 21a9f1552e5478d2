import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { assertLocal } from './load';

export interface ProcessSpec {
  /** Also the log file's name. */
  name: string;
  /** A built script under dist/. */
  script: string;
  args?: string[];
  env: Record<string, string>;
  /** Path that answers 200 once the process serves. */
  readyPath: string;
  logDir: string;
  /** Extra node flags (e.g. --cpu-prof). */
  nodeArgs?: string[];
  readyTimeoutMs?: number;
}

export interface RunningProcess {
  name: string;
  pid: number;
  origin: string;
  /** From spawn to the first 200 on `readyPath`. */
  readyMs: number;
  /** Resident memory now and at its peak, MiB (Linux /proc). */
  memory(): { rssMiB: number; peakMiB: number };
  /** CPU time used so far, user + system, seconds (Linux /proc; NaN elsewhere). */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();

/** Ends every process the bench started and has not stopped yet (on error or interrupt). */
export function killStartedProcesses(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

/**
 * A free TCP port on 127.0.0.1, below the kernel's ephemeral range (32768 and up on Linux): a
 * port the kernel hands out for `listen(0)` or an outgoing connection could be taken by another
 * process (tests running beside the bench) between this check and the child's listen.
 */
async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (await canListen(port)) return port;
  }
  throw new Error('bench: no free port between 20000 and 32000.');
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * Starts `node <script>` on a free port of 127.0.0.1 with only the given environment (plus PATH
 * and HOME), logs to `<logDir>/<name>.log` (a file, so a slow reader never blocks the process),
 * and waits for `readyPath` to answer 200.
 */
export async function startProcess(spec: ProcessSpec): Promise<RunningProcess> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  assertLocal(origin);
  const logFile = join(spec.logDir, `${spec.name}.log`);
  const log = openSync(logFile, 'a');
  const startedAt = performance.now();
  const child = spawn(
    process.execPath,
    [...(spec.nodeArgs ?? []), spec.script, ...(spec.args ?? [])],
    {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        ...spec.env,
        PORT: String(port),
        HOST: '127.0.0.1',
      },
      stdio: ['ignore', log, log],
    },
  );
  closeSync(log);
  running.add(child);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  let exitCode: number | null | undefined;
  void exited.then((code) => {
    exitCode = code;
    running.delete(child);
  });

  const deadline = startedAt + (spec.readyTimeoutMs ?? 30_000);
  let readyMs = NaN;
  while (performance.now() < deadline && exitCode === undefined) {
    if (await answers200(origin + spec.readyPath)) {
      readyMs = performance.now() - startedAt;
      break;
    }
    await sleep(10);
  }
  if (Number.isNaN(readyMs)) {
    child.kill('SIGKILL');
    throw new Error(`${spec.name} did not become ready; its log:\n${tail(logFile)}`);
  }

  return {
    name: spec.name,
    pid: child.pid!,
    origin,
    readyMs,
    memory: () => readMemory(child.pid!),
    cpuSeconds: () => readCpuSeconds(child.pid!),
    stop: async () => {
      if (exitCode !== undefined) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function answers200(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}

function readMemory(pid: number): { rssMiB: number; peakMiB: number } {
  const file = `/proc/${pid}/status`;
  if (!existsSync(file)) return { rssMiB: NaN, peakMiB: NaN };
  const status = readFileSync(file, 'utf8');
  const kib = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
  return { rssMiB: kib('VmRSS') / 1024, peakMiB: kib('VmHWM') / 1024 };
}

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ: 100 on every Linux architecture). */
const USER_HZ = 100;

function readCpuSeconds(pid: number): number {
  const file = `/proc/${pid}/stat`;
  if (!existsSync(file)) return NaN;
  // Fields after the command name, which is in parentheses and may contain spaces.
  const fields = readFileSync(file, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / USER_HZ; // utime, stime
}

function tail(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-30).join('\n') : '';
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
