import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.ts';
import { readClientCredentials } from './read-client-credentials.ts';
import { formParams } from '../http/form-body.ts';
import { optionalParam, requiredParam } from '../http/params.ts';
import { authenticateClient } from './client-authentication.ts';
import { revokeToken } from './revocation.ts';
import { recordAuditEvent } from '../operations/audit-trail.ts';

export function tokenRoutes(app: FastifyInstance, ctx: ServerContext): void {
  // POST /token and /introspect are served in front of Fastify: http/machine-endpoints.ts.
  // RFC 7009: revocation, for the client a token was issued to.
  app.post('/revoke', async (request, reply) => {
    const params = formParams(request);
    const client = await authenticateClient(readClientCredentials(request.headers.authorization, params), ctx);
    const token = requiredParam(params, 'token', 8192);
    optionalParam(params, 'token_type_hint', 64);
    const revoked = await revokeToken(token, client, ctx);
    if (revoked !== undefined) {
      await recordAuditEvent(
        {
          actor: `client:${client.id}`,
          action: 'token_revoked',
          subject: revoked.accountId === null ? `client:${client.id}` : `account:${revoked.accountId}`,
          detail: { token_type: revoked.tokenType, client_id: client.id },
          ip: request.ip,
        },
        ctx.storage,
        ctx.clock,
      );
    }
    return reply.header('cache-control', 'no-store').code(200).send();
  });
}
