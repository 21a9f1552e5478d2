import type { CrossTabLockOptions, CrossTabLocks } from './sdk';

type Callback = (lock: unknown) => Promise<unknown>;

interface Request {
  callback: Callback;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * `navigator.locks` for Node 20, which has none: exclusive locks, granted in request order, with
 * `ifAvailable` and `signal`, in the call form the client uses: `request(name, options, callback)`.
 *
 * When the next holder is granted, relative to messages a holder posted on a BroadcastChannel
 * before releasing: browsers promise no order. By default it is granted in a later task (after
 * setImmediate), which lets those messages arrive first; `grantBeforeMessages` grants it in a
 * microtask instead, before any message can arrive: the order Chromium often shows, and the
 * one that made a second tab refresh again with the rotated cookie.
 */
export class FakeLocks implements CrossTabLocks {
  /** How many callbacks ran with the lock, per name. */
  readonly grants = new Map<string, number>();
  /** How many `ifAvailable` requests found the lock taken, per name. */
  readonly refusals = new Map<string, number>();
  private readonly held = new Set<string>();
  private readonly queues = new Map<string, Request[]>();

  constructor(private readonly options: { grantBeforeMessages?: boolean } = {}) {}

  /** Whether `name` is held now. */
  isHeld(name: string): boolean {
    return this.held.has(name);
  }

  request<T>(
    name: string,
    options: CrossTabLockOptions,
    callback: (lock: unknown) => Promise<T>,
  ): Promise<T> {
    if (options.signal?.aborted) return Promise.reject(abortError());
    const queue = this.queue(name);
    if (options.ifAvailable && (this.held.has(name) || queue.length > 0)) {
      this.refusals.set(name, (this.refusals.get(name) ?? 0) + 1);
      return new Promise<T>((resolve, reject) => {
        this.later(() => {
          callback(null).then(resolve, reject);
        });
      });
    }
    return new Promise<T>((resolve, reject) => {
      const request: Request = {
        callback,
        resolve: resolve as (value: unknown) => void,
        reject,
      };
      options.signal?.addEventListener('abort', () => {
        const index = queue.indexOf(request);
        if (index < 0) return; // granted already: aborting changes nothing
        queue.splice(index, 1);
        reject(abortError());
      });
      queue.push(request);
      this.grantNext(name);
    });
  }

  private queue(name: string): Request[] {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = [];
      this.queues.set(name, queue);
    }
    return queue;
  }

  private grantNext(name: string): void {
    if (this.held.has(name)) return;
    const next = this.queue(name).shift();
    if (!next) return;
    this.held.add(name);
    this.later(() => {
      this.grants.set(name, (this.grants.get(name) ?? 0) + 1);
      const result = (async () => next.callback({ name, mode: 'exclusive' }))();
      void result
        .finally(() => {
          this.held.delete(name);
          this.grantNext(name);
        })
        .then(next.resolve, next.reject);
    });
  }

  private later(run: () => void): void {
    if (this.options.grantBeforeMessages) queueMicrotask(run);
    else setImmediate(run);
  }
}

function abortError(): Error {
  const error = new Error('The lock request was aborted.');
  error.name = 'AbortError';
  return error;
}
