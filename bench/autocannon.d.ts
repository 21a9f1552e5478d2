// The parts of autocannon 9 the bench uses, read from its lib/ (the package ships no types, and
// @types/autocannon describes 7.x).
declare module 'autocannon' {
  namespace autocannon {
    interface RequestSpec {
      method?: 'GET' | 'POST';
      path?: string;
      headers?: Record<string, string>;
      body?: string;
      /** Called before each send; returns the request to send. */
      setupRequest?: (request: RequestSpec, context: Record<string, unknown>) => RequestSpec;
      /** Called with each completed response to this request. */
      onResponse?: (
        status: number,
        body: string,
        context: Record<string, unknown>,
        headers: Record<string, string>,
      ) => void;
    }

    /** One connection. */
    interface Client {
      setRequests(requests: RequestSpec[]): void;
    }

    interface Options {
      url: string;
      connections?: number;
      /** Seconds. */
      duration?: number;
      /** Requests per second over all connections (per connection: split evenly). */
      overallRate?: number;
      /** Per-connection cap on responses (autocannon does not divide it by `connections`). */
      maxOverallRequests?: number;
      /** Seconds before a request counts as timed out. */
      timeout?: number;
      method?: 'GET' | 'POST';
      headers?: Record<string, string>;
      body?: string;
      requests?: RequestSpec[];
      setupClient?: (client: Client) => void;
    }

    interface Histogram {
      average: number;
      p50: number;
      p99: number;
      max: number;
    }

    interface Result {
      duration: number;
      errors: number;
      timeouts: number;
      non2xx: number;
      '2xx': number;
      '4xx': number;
      '5xx': number;
      statusCodeStats: Record<string, { count: number }>;
      latency: Histogram;
      requests: Histogram;
    }

    interface Instance extends PromiseLike<Result> {
      /** status and latency (ms, fractional) of every completed response */
      on(
        event: 'response',
        listener: (client: Client, status: number, bytes: number, latencyMs: number) => void,
      ): this;
      stop(): void;
    }
  }

  function autocannon(options: autocannon.Options): autocannon.Instance;

  export = autocannon;
}
