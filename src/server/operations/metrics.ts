import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Clock } from '../../shared/clock.ts';
import type { Storage } from '../../storage/storage.ts';

/**
 * Prometheus metrics of one server. Each server has its own registry (not prom-client's global
 * one), so several servers in one process — as in tests — never collide.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'method' | 'route' | 'status'>;
  readonly latency: Histogram<'method' | 'route'>;
  readonly tokensIssued: Counter<'grant_type'>;
  readonly oauthErrors: Counter<'error'>;

  constructor(storage: Storage, clock: Clock) {
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'gatehouse_http_requests_total',
      help: 'HTTP requests by method, route and status.',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.latency = new Histogram({
      name: 'gatehouse_http_request_duration_seconds',
      help: 'Time to answer HTTP requests, by method and route.',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.tokensIssued = new Counter({
      name: 'gatehouse_tokens_issued_total',
      help: 'Token responses by grant type.',
      labelNames: ['grant_type'],
      registers,
    });
    this.oauthErrors = new Counter({
      name: 'gatehouse_oauth_errors_total',
      help: 'Error responses by OAuth error code.',
      labelNames: ['error'],
      registers,
    });
    new Gauge({
      name: 'gatehouse_active_sessions',
      help: 'Browser login sessions that have not expired.',
      registers,
      async collect() {
        this.set(await storage.countActiveSessions(clock.now()));
      },
    });
  }
}
