import { OAuthError } from '../../shared/oauth-error.ts';
import type { Storage } from '../../storage/storage.ts';
import type { ServerContext } from '../context.ts';
import type { RouteReply, WebRoute } from '../http/route-table.ts';
import type { ServerMetrics } from './metrics.ts';

/** What a readiness check needs from storage beyond the domain interface. */
export interface ReadinessProbe {
  ping(): Promise<void>;
  schemaStatus(): Promise<{ pending: string[]; unknown: string[] }>;
}

const noStore = { 'cache-control': 'no-store' };

export function operationsRoutes(ctx: ServerContext, metrics: ServerMetrics): WebRoute[] {
  // Readiness: the database answers and its schema is the one this code expects.
  async function ready(): Promise<RouteReply> {
    const probe = ctx.storage as Storage & Partial<ReadinessProbe>;
    try {
      await probe.ping?.();
      const status = await probe.schemaStatus?.();
      if (status !== undefined && (status.pending.length > 0 || status.unknown.length > 0)) {
        return { status: 503, headers: noStore, json: { status: 'unavailable', reason: 'database schema does not match this version', ...status } };
      }
    } catch {
      throw new OAuthError('temporarily_unavailable', 'the database does not answer');
    }
    return { headers: noStore, json: { status: 'ok' } };
  }

  const routes: WebRoute[] = [
    // Liveness: the process answers. Never touches the database, so a database outage does not
    // make an orchestrator restart healthy processes.
    { lane: 'json', method: 'GET', path: '/health/live', handle: () => ({ headers: noStore, json: { status: 'ok' } }) },
    { lane: 'json', method: 'GET', path: '/health/ready', handle: ready },
  ];
  if (ctx.config.metricsEnabled) {
    routes.push({
      lane: 'json',
      method: 'GET',
      path: '/metrics',
      handle: async () => ({ headers: noStore, text: { type: metrics.registry.contentType, body: await metrics.registry.metrics() } }),
    });
  }
  return routes;
}
