import type { FastifyInstance } from 'fastify';
import { OAuthError } from '../../shared/oauth-error.ts';
import type { Storage } from '../../storage/storage.ts';
import type { ServerContext } from '../context.ts';
import type { ServerMetrics } from './metrics.ts';

/** What a readiness check needs from storage beyond the domain interface. */
export interface ReadinessProbe {
  ping(): Promise<void>;
  schemaStatus(): Promise<{ pending: string[]; unknown: string[] }>;
}

export function operationsRoutes(app: FastifyInstance, ctx: ServerContext, metrics: ServerMetrics): void {
  // Liveness: the process answers. Never touches the database, so a database outage does not
  // make an orchestrator restart healthy processes.
  app.get('/health/live', async (_request, reply) => reply.header('cache-control', 'no-store').send({ status: 'ok' }));

  // Readiness: the database answers and its schema is the one this code expects.
  app.get('/health/ready', async (_request, reply) => {
    const probe = ctx.storage as Storage & Partial<ReadinessProbe>;
    try {
      await probe.ping?.();
      const status = await probe.schemaStatus?.();
      if (status !== undefined && (status.pending.length > 0 || status.unknown.length > 0)) {
        return reply.code(503).header('cache-control', 'no-store').send({ status: 'unavailable', reason: 'database schema does not match this version', ...status });
      }
    } catch {
      throw new OAuthError('temporarily_unavailable', 'the database does not answer');
    }
    return reply.header('cache-control', 'no-store').send({ status: 'ok' });
  });

  if (ctx.config.metricsEnabled) {
    app.get('/metrics', async (_request, reply) =>
      reply.type(metrics.registry.contentType).header('cache-control', 'no-store').send(await metrics.registry.metrics()),
    );
  }
}
