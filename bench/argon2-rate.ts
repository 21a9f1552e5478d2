import { Algorithm, hash, verify } from '@node-rs/argon2';

export interface Argon2Parameters {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

/**
 * argon2id verifications per second in this process with `concurrency` in flight, for
 * `durationMs` (and at most `maxCount` verifications): the ceiling for logins per second.
 */
export async function argon2VerifyRate(
  parameters: Argon2Parameters,
  concurrency: number,
  durationMs: number,
  maxCount = 100_000,
): Promise<{ perSecond: number; msEach: number; cpuMsEach: number }> {
  const password = 'correct horse battery staple';
  const passwordHash = await hash(password, { algorithm: Algorithm.Argon2id, ...parameters });
  // One at a time first: the cost of a single verification (and a warm-up).
  const serialStart = performance.now();
  for (let i = 0; i < 5; i++) await verify(passwordHash, password);
  const msEach = (performance.now() - serialStart) / 5;
  let completed = 0;
  let elapsed = 0;
  const cpuBefore = process.cpuUsage();
  const startedAt = performance.now();
  const deadline = startedAt + durationMs;
  const loop = async () => {
    while (performance.now() < deadline && completed < maxCount) {
      if (!(await verify(passwordHash, password))) throw new Error('argon2 verify failed');
      completed++;
      elapsed = performance.now() - startedAt;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  const cpu = process.cpuUsage(cpuBefore);
  return {
    perSecond: (completed / elapsed) * 1000,
    msEach,
    // CPU time of the whole process (pool threads included) per verification
    cpuMsEach: (cpu.user + cpu.system) / 1000 / completed,
  };
}
