import type { FastifyInstance, FastifyRequest } from 'fastify';
import { OAuthError } from '../../shared/oauth-error.ts';
import { notAForm } from './error-handler.ts';
import { parseFormEncoded, type Params } from './params.ts';

/** Replaces Fastify's lenient form parsing with the strict one of `parseFormEncoded`. */
export function registerFormBodyParser(app: FastifyInstance): void {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer' }, (_request, body, done) => {
    try {
      done(null, parseFormEncoded(body as Buffer));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
}

/**
 * The parameters of a form POST. RFC 6749 §3.2 and §4.1.3: the token endpoint takes
 * `application/x-www-form-urlencoded`; a body of any other type is refused, not guessed at.
 */
export function formParams(request: FastifyRequest): Params {
  if (request.body instanceof Map) return request.body as Params;
  if (request.body === undefined || request.body === null) {
    if (request.headers['content-type'] === undefined) return new Map();
  }
  throw new OAuthError('invalid_request', notAForm);
}
