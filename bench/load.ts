import autocannon from 'autocannon';

export type RequestSpec = autocannon.RequestSpec;

/** One load run against 127.0.0.1, bounded in time (duration) and in count. */
export interface LoadSpec {
  /** `http://127.0.0.1:PORT` */
  origin: string;
  connections: number;
  durationS: number;
  /** Requests per second over all connections; unset = as fast as the server answers. */
  overallRate?: number;
  timeoutS?: number;
  /** The request each connection repeats, or the requests of the connection with this index. */
  requests: RequestSpec[] | ((connection: number) => RequestSpec[]);
}

export interface LoadResult {
  connections: number;
  durationS: number;
  /** 2xx responses per second. */
  rps: number;
  /**
   * 2xx responses per second over the second half of the run only: the steady rate of a server
   * whose first answers take seconds to come (its pipeline is still filling at the start).
   */
  steadyRps: number;
  ok: number;
  /** Latency percentiles of every completed response, ms. */
  p50: number;
  p99: number;
  status4xx: number;
  status5xx: number;
  /** Connection errors and timeouts. */
  errors: number;
}

/** No run here can exceed this, even on a much faster machine: a ceiling, not a target. */
const MAX_REQUESTS_PER_SECOND = 200_000;
/** Latency samples kept per run (bounds memory on any machine). */
const MAX_SAMPLES = 4_000_000;

/** Drives the server with autocannon and measures latencies from autocannon's own timings. */
export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  assertLocal(spec.origin);
  const timeoutS = spec.timeoutS ?? 10;
  let connection = 0;
  const shared = spec.requests;
  // autocannon keeps per-connection state on the request objects: each connection gets copies.
  const perConnection =
    typeof shared === 'function' ? shared : () => shared.map((request) => ({ ...request }));
  const instance = autocannon({
    url: spec.origin,
    connections: spec.connections,
    duration: spec.durationS,
    overallRate: spec.overallRate,
    timeout: timeoutS,
    maxOverallRequests: Math.ceil(spec.durationS * MAX_REQUESTS_PER_SECOND),
    setupClient: (client) => client.setRequests(perConnection(connection++)),
  });
  const latencies: number[] = [];
  const startedAt = performance.now();
  const secondHalfFrom = startedAt + (spec.durationS * 1000) / 2;
  let okInSecondHalf = 0;
  instance.on('response', (_client, status, _bytes, latencyMs) => {
    if (latencies.length < MAX_SAMPLES) latencies.push(latencyMs);
    if (status >= 200 && status < 300 && performance.now() >= secondHalfFrom) okInSecondHalf++;
  });
  // autocannon ends on its own after `duration`; this only guards against a stuck run.
  const watchdog = setTimeout(() => instance.stop(), (spec.durationS + timeoutS + 10) * 1000);
  try {
    const result = await instance;
    latencies.sort((a, b) => a - b);
    return {
      connections: spec.connections,
      durationS: result.duration,
      rps: result['2xx'] / result.duration,
      steadyRps: okInSecondHalf / (spec.durationS / 2),
      ok: result['2xx'],
      p50: percentile(latencies, 0.5),
      p99: percentile(latencies, 0.99),
      status4xx: result['4xx'],
      status5xx: result['5xx'],
      errors: result.errors,
    };
  } finally {
    clearTimeout(watchdog);
  }
}

/** Nearest-rank percentile of sorted values; NaN when there are none. */
function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[rank];
}

export function median(values: readonly number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    0.5,
  );
}

/** The bench never sends traffic anywhere but this machine's loopback address. */
export function assertLocal(origin: string): void {
  if (new URL(origin).hostname !== '127.0.0.1') {
    throw new Error(`bench: refusing to send traffic to ${origin}; only 127.0.0.1 is allowed.`);
  }
}
