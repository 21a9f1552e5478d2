/**
 * A BroadcastChannel whose deliveries the test controls, installed as the global one by
 * `install()` (until `uninstall()`): the tabs of a test talk through it instead of Node's.
 *
 * - `deliver` (default): each message reaches the other channels of its name in a later task,
 *   as in a browser;
 * - `hold`: messages wait until `release()` (a message slower than the lock);
 * - `drop`: messages are lost.
 */
export class FakeChannels {
  mode: 'deliver' | 'hold' | 'drop' = 'deliver';
  private held: (() => void)[] = [];
  private readonly members = new Map<string, Set<FakeChannel>>();
  private original: PropertyDescriptor | undefined;

  install(): void {
    this.original = Object.getOwnPropertyDescriptor(globalThis, 'BroadcastChannel');
    const open = (name: string) => new FakeChannel(name, this);
    Object.defineProperty(globalThis, 'BroadcastChannel', {
      // `new BroadcastChannel(name)` returns the object the constructor returns.
      value: function BroadcastChannel(name: string) {
        return open(name);
      },
      configurable: true,
      writable: true,
    });
  }

  uninstall(): void {
    if (this.original) Object.defineProperty(globalThis, 'BroadcastChannel', this.original);
    this.held = [];
  }

  /** Delivers the held messages, in the order they were posted. */
  release(): void {
    for (const deliver of this.held.splice(0)) deliver();
  }

  /** @internal */
  join(channel: FakeChannel): void {
    let members = this.members.get(channel.name);
    if (!members) {
      members = new Set();
      this.members.set(channel.name, members);
    }
    members.add(channel);
  }

  /** @internal */
  leave(channel: FakeChannel): void {
    this.members.get(channel.name)?.delete(channel);
  }

  /** @internal */
  post(from: FakeChannel, data: unknown): void {
    if (this.mode === 'drop') return;
    const copy = structuredClone(data);
    const receivers = [...(this.members.get(from.name) ?? [])].filter((other) => other !== from);
    const deliver = () => {
      for (const receiver of receivers) receiver.receive(copy);
    };
    if (this.mode === 'hold') this.held.push(deliver);
    else setImmediate(deliver);
  }
}

class FakeChannel {
  onmessage: ((event: MessageEvent) => void) | null = null;
  private closed = false;

  constructor(
    readonly name: string,
    private readonly hub: FakeChannels,
  ) {
    hub.join(this);
  }

  postMessage(data: unknown): void {
    if (this.closed) throw new Error('InvalidStateError: the channel is closed');
    this.hub.post(this, data);
  }

  receive(data: unknown): void {
    if (!this.closed) this.onmessage?.({ data } as MessageEvent);
  }

  close(): void {
    this.closed = true;
    this.hub.leave(this);
  }

  unref(): void {}
}
