import type { CrossTabLocks } from '../../../client/src';

/**
 * `navigator.locks` for Node 20, which has none: exclusive locks granted in request order. As in
 * a browser, the next holder is granted in a later task, after messages already posted.
 */
export class FakeLocks implements CrossTabLocks {
  private readonly tails = new Map<string, Promise<void>>();
  /** How many callbacks ran under each name. */
  readonly grants = new Map<string, number>();

  request<T>(name: string, callback: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(name) ?? Promise.resolve();
    const result = previous
      .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
      .then(() => {
        this.grants.set(name, (this.grants.get(name) ?? 0) + 1);
        return callback();
      });
    this.tails.set(
      name,
      result.then(
        () => undefined,
        () => undefined,
      ),
    );
    return result;
  }
}
