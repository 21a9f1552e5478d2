import { availableParallelism } from 'node:os';

/**
 * The libuv thread pool size this process should run with: UV_THREADPOOL_SIZE when the operator
 * set it, else one thread per core. argon2 hashes run on this pool and are pure CPU work, so
 * threads beyond the cores add no logins per second; they only take CPU time from the event loop
 * that serves every other request. Node's default is 4 whatever the machine: twice too many on
 * 2 cores, too few on 16. See docs/PERFORMANCE.md for the figures.
 */
export function threadPoolSize(env: NodeJS.ProcessEnv = process.env): number {
  const configured = Number(env.UV_THREADPOOL_SIZE);
  if (Number.isInteger(configured) && configured > 0) return configured;
  return availableParallelism();
}

// libuv reads the variable once, when the pool starts (on its first job): main.ts imports this
// module before anything else for that reason.
process.env.UV_THREADPOOL_SIZE = String(threadPoolSize());
