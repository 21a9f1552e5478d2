/** Waiting in tests: a plain pause, and polling until something holds. */

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `check` every `intervalMs` until it holds: the milliseconds that took, or Infinity once
 * `limitMs` have passed. For tests that measure how soon something happens.
 */
export async function msUntil(
  check: () => Promise<boolean>,
  limitMs: number,
  intervalMs = 20,
): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < limitMs) {
    if (await check()) return Date.now() - started;
    await sleep(intervalMs);
  }
  return Infinity;
}

/** Polls `check` every `intervalMs` until it holds; fails the test once `limitMs` have passed. */
export async function eventually(
  check: () => Promise<boolean>,
  limitMs: number,
  intervalMs = 20,
): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    expect(Date.now() - started).toBeLessThan(limitMs);
    await sleep(intervalMs);
  }
}
