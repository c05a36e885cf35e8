/**
 * The OpenAPI 3.1 description of the admin REST API, served at /admin/openapi.json. Written by
 * hand, next to the routes it describes; a test fails when a route of /admin/api is missing here
 * or a path here has no route.
 */

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const response = (name: string) => ({ $ref: `#/components/responses/${name}` });
const json = (schema: unknown) => ({ 'application/json': { schema } });
const ok = (description: string, schema: unknown) => ({ description, content: json(schema) });
const body = (schema: unknown, description?: string) => ({ required: true, ...(description ? { description } : {}), content: json(schema) });

/** Errors every operation can answer, plus the ones it names. */
function errors(...extra: ('BadRequest' | 'NotFound' | 'Conflict')[]) {
  const statuses = { BadRequest: '400', NotFound: '404', Conflict: '409' } as const;
  return {
    '401': response('Unauthorized'),
    '403': response('Forbidden'),
    ...Object.fromEntries(extra.map((name) => [statuses[name], response(name)])),
  };
}

const clientId = { name: 'client_id', in: 'path', required: true, description: 'The client ID.', schema: { type: 'string' } };
const sub = { name: 'sub', in: 'path', required: true, description: "The user's subject identifier (`sub`).", schema: { type: 'string' } };

const timestamp = { type: 'string', format: 'date-time' };
const nullableTimestamp = { type: ['string', 'null'], format: 'date-time' };
const lifetime = {
  type: ['integer', 'null'],
  minimum: 1,
  description: 'Seconds; null uses the server default.',
};

const clientMetadata = {
  client_name: { type: 'string', minLength: 1, maxLength: 200, description: 'Shown to users on the consent page.' },
  redirect_uris: {
    type: 'array',
    items: { type: 'string', format: 'uri' },
    description: 'Exact redirect URIs; required when the client uses authorization_code.',
  },
  grant_types: {
    type: 'array',
    items: { type: 'string', enum: ['authorization_code', 'refresh_token', 'client_credentials'] },
    description: 'Default authorization_code and refresh_token.',
  },
  scope: { type: 'string', description: 'Space-separated scopes the client may request. `admin` grants this API, through client_credentials only.' },
  access_token_ttl: lifetime,
  refresh_token_ttl: lifetime,
  access_token_format: { type: 'string', enum: ['opaque', 'jwt'], description: 'Opaque (default) or RFC 9068 JWT access tokens.' },
  resources: { type: 'array', items: { type: 'string', format: 'uri' }, description: 'RFC 8707 resource indicators the client may ask tokens for.' },
  token_endpoint_auth_method: {
    type: 'string',
    enum: ['client_secret_basic', 'client_secret_post', 'none'],
    description:
      'How the client authenticates at /token, /introspect and /revoke (RFC 7591 §2); any other method is refused. Default client_secret_basic for confidential clients; public clients use none.',
  },
  consent_policy: {
    type: 'string',
    enum: ['remember', 'always_ask'],
    description:
      'Whether remembered consent skips the consent page. Default always_ask for public clients (RFC 8252 §8.6: their ID and loopback redirect URIs can be used by any app), remember for confidential ones. A public client set to remember still asks for loopback and private-use redirect URIs and for offline_access.',
  },
  can_introspect: {
    type: 'boolean',
    description: "May introspect other clients' access tokens at /introspect (a resource server, RFC 7662 §4). Every client may introspect its own tokens. Default false; not for public clients.",
  },
  served_resources: {
    type: 'array',
    items: { type: 'string', format: 'uri' },
    description: 'RFC 8707 resource identifiers this client serves. An access token with an audience is described at /introspect only to a caller that serves one of its audiences.',
  },
};

export function adminOpenApiDocument(issuer: string) {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Gatehouse admin API',
      version: '1',
      description:
        'Manage clients, users, signing keys and the audit trail. Authenticate with an access token that a client registered for the ' +
        '`admin` scope obtains from the token endpoint with the client_credentials grant. Errors are OAuth 2.0 error objects ' +
        '(`error`, `error_description`). Every change is recorded in the audit trail with the calling client as its actor.',
    },
    servers: [{ url: issuer }],
    security: [{ adminClient: ['admin'] }],
    paths: {
      '/admin/api/clients': {
        get: {
          operationId: 'listClients',
          summary: 'List registered clients',
          responses: { '200': ok('Every client, oldest first.', { type: 'object', required: ['clients'], properties: { clients: { type: 'array', items: ref('Client') } } }), ...errors() },
        },
        post: {
          operationId: 'createClient',
          summary: 'Register a client',
          description: 'The response carries the client secret of a confidential client. It is shown this once and cannot be recovered.',
          requestBody: body(ref('ClientCreate')),
          responses: { '201': ok('The client and, once, its secret.', ref('ClientWithSecret')), ...errors('BadRequest') },
        },
      },
      '/admin/api/clients/{client_id}': {
        parameters: [clientId],
        get: { operationId: 'getClient', summary: 'Show a client', responses: { '200': ok('The client.', ref('Client')), ...errors('NotFound') } },
        patch: {
          operationId: 'updateClient',
          summary: 'Change a client',
          description: 'Fields present replace the registered ones; absent fields stay as they are. The client type cannot change.',
          requestBody: body(ref('ClientUpdate')),
          responses: { '200': ok('The client as now registered.', ref('Client')), ...errors('BadRequest', 'NotFound') },
        },
        delete: {
          operationId: 'deleteClient',
          summary: 'Delete a client with its codes, tokens and users’ consents',
          responses: { '204': { description: 'Deleted.' }, ...errors('NotFound') },
        },
      },
      '/admin/api/clients/{client_id}/rotate-secret': {
        parameters: [clientId],
        post: {
          operationId: 'rotateClientSecret',
          summary: 'Issue a new client secret',
          description: 'The old secret stops working at once. The new one is shown this once.',
          responses: { '200': ok('The new secret.', ref('ClientSecret')), ...errors('BadRequest', 'NotFound') },
        },
      },
      '/admin/api/users': {
        get: {
          operationId: 'listUsers',
          summary: 'List users',
          responses: { '200': ok('Every user.', { type: 'object', required: ['users'], properties: { users: { type: 'array', items: ref('User') } } }), ...errors() },
        },
        post: {
          operationId: 'createUser',
          summary: 'Create a user',
          requestBody: body(ref('UserCreate')),
          responses: { '201': ok('The user.', ref('User')), ...errors('BadRequest', 'Conflict') },
        },
      },
      '/admin/api/users/{sub}': {
        parameters: [sub],
        get: { operationId: 'getUser', summary: 'Show a user', responses: { '200': ok('The user.', ref('User')), ...errors('NotFound') } },
        patch: {
          operationId: 'updateUser',
          summary: 'Change a user',
          requestBody: body(ref('UserUpdate')),
          responses: { '200': ok('The user as now stored.', ref('User')), ...errors('BadRequest', 'NotFound') },
        },
        delete: {
          operationId: 'deleteUser',
          summary: 'Delete a user with their sessions, consents, codes and tokens',
          responses: { '204': { description: 'Deleted.' }, ...errors('NotFound') },
        },
      },
      '/admin/api/users/{sub}/disable': {
        parameters: [sub],
        post: {
          operationId: 'disableUser',
          summary: 'Disable a user',
          description: 'The user can no longer log in; their sessions end and every token they hold is revoked at once.',
          responses: { '200': ok('The user.', ref('User')), ...errors('NotFound') },
        },
      },
      '/admin/api/users/{sub}/enable': {
        parameters: [sub],
        post: { operationId: 'enableUser', summary: 'Enable a disabled user', responses: { '200': ok('The user.', ref('User')), ...errors('NotFound') } },
      },
      '/admin/api/users/{sub}/reset-password': {
        parameters: [sub],
        post: {
          operationId: 'resetUserPassword',
          summary: 'Set a new password',
          description: "The user's browser sessions end; tokens their apps hold keep working.",
          requestBody: body(ref('PasswordReset')),
          responses: { '200': ok('The user.', ref('User')), ...errors('BadRequest', 'NotFound') },
        },
      },
      '/admin/api/users/{sub}/grants': {
        parameters: [sub],
        get: {
          operationId: 'listUserGrants',
          summary: 'The apps a user has authorized',
          responses: {
            '200': ok('Most recently used first.', { type: 'object', required: ['grants'], properties: { grants: { type: 'array', items: ref('Grant') } } }),
            ...errors('NotFound'),
          },
        },
      },
      '/admin/api/keys': {
        get: {
          operationId: 'listSigningKeys',
          summary: 'List signing keys',
          responses: { '200': ok('Newest first.', { type: 'object', required: ['keys'], properties: { keys: { type: 'array', items: ref('SigningKey') } } }), ...errors() },
        },
      },
      '/admin/api/keys/rotate': {
        post: {
          operationId: 'rotateSigningKeys',
          summary: 'Start signing with new keys',
          description: 'The previous keys stay published at /jwks until every token they signed has expired.',
          responses: { '200': ok('Every key after the rotation, newest first.', { type: 'object', required: ['keys'], properties: { keys: { type: 'array', items: ref('SigningKey') } } }), ...errors() },
        },
      },
      '/admin/api/events': {
        get: {
          operationId: 'listAuditEvents',
          summary: 'Recent audit events',
          description: 'Logins, failed logins, consents, token revocations and every administrative action, newest first.',
          parameters: [{ name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } }],
          responses: { '200': ok('Newest first.', { type: 'object', required: ['events'], properties: { events: { type: 'array', items: ref('AuditEvent') } } }), ...errors('BadRequest') },
        },
      },
    },
    components: {
      securitySchemes: {
        adminClient: {
          type: 'oauth2',
          description: 'A client registered with the `admin` scope, using the client_credentials grant (RFC 6749 §4.4).',
          flows: { clientCredentials: { tokenUrl: `${issuer}/token`, scopes: { admin: 'Manage this Gatehouse' } } },
        },
      },
      responses: {
        BadRequest: { description: 'The request is malformed; `error_description` names the field.', content: json(ref('Error')) },
        Unauthorized: {
          description: 'No access token, or one that is unknown, expired or revoked (`invalid_token`, RFC 6750 §3.1).',
          headers: { 'WWW-Authenticate': { schema: { type: 'string' } } },
          content: json(ref('Error')),
        },
        Forbidden: {
          description: 'The token lacks the `admin` scope (`insufficient_scope`, RFC 6750 §3.1).',
          headers: { 'WWW-Authenticate': { schema: { type: 'string' } } },
          content: json(ref('Error')),
        },
        NotFound: { description: 'No such client or user (`not_found`).', content: json(ref('Error')) },
        Conflict: { description: 'The change conflicts with existing data, e.g. a username that is taken (`conflict`).', content: json(ref('Error')) },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['error', 'error_description'],
          properties: { error: { type: 'string', description: 'An OAuth 2.0 error code.' }, error_description: { type: 'string' } },
        },
        Client: {
          type: 'object',
          required: [
            'client_id', 'client_name', 'client_type', 'token_endpoint_auth_method', 'redirect_uris', 'grant_types', 'scope', 'access_token_format',
            'resources', 'consent_policy', 'can_introspect', 'served_resources', 'created_at',
          ],
          properties: {
            client_id: { type: 'string' },
            client_type: { type: 'string', enum: ['confidential', 'public'] },
            ...clientMetadata,
            created_at: timestamp,
          },
        },
        ClientCreate: {
          type: 'object',
          required: ['client_name'],
          additionalProperties: false,
          properties: { ...clientMetadata, client_type: { type: 'string', enum: ['confidential', 'public'], default: 'confidential' } },
        },
        ClientUpdate: { type: 'object', additionalProperties: false, properties: clientMetadata },
        ClientWithSecret: {
          allOf: [ref('Client'), { type: 'object', properties: { client_secret: { type: ['string', 'null'], description: 'Null for public clients.' } } }],
        },
        ClientSecret: {
          type: 'object',
          required: ['client_id', 'client_secret'],
          properties: { client_id: { type: 'string' }, client_secret: { type: 'string' } },
        },
        User: {
          type: 'object',
          required: ['sub', 'username', 'admin', 'disabled', 'created_at'],
          properties: {
            sub: { type: 'string' },
            username: { type: 'string' },
            name: { type: ['string', 'null'] },
            email: { type: ['string', 'null'] },
            email_verified: { type: 'boolean' },
            admin: { type: 'boolean', description: 'May use the admin console.' },
            disabled: { type: 'boolean' },
            disabled_at: nullableTimestamp,
            created_at: timestamp,
          },
        },
        UserCreate: {
          type: 'object',
          required: ['username', 'password'],
          additionalProperties: false,
          properties: {
            username: { type: 'string', pattern: '^[\\p{L}\\p{N}._@+-]{1,64}$' },
            password: { type: 'string', minLength: 8, maxLength: 1024 },
            name: { type: ['string', 'null'], maxLength: 200 },
            email: { type: ['string', 'null'], format: 'email' },
            admin: { type: 'boolean', default: false },
          },
        },
        UserUpdate: { type: 'object', additionalProperties: false, properties: { admin: { type: 'boolean' } } },
        PasswordReset: {
          type: 'object',
          required: ['password'],
          additionalProperties: false,
          properties: { password: { type: 'string', minLength: 8, maxLength: 1024 } },
        },
        Grant: {
          type: 'object',
          required: ['client_id', 'scope', 'created_at'],
          properties: {
            client_id: { type: 'string' },
            client_name: { type: ['string', 'null'] },
            scope: { type: 'string' },
            created_at: timestamp,
            updated_at: timestamp,
            last_used_at: nullableTimestamp,
          },
        },
        SigningKey: {
          type: 'object',
          required: ['kid', 'alg', 'state', 'published', 'created_at'],
          properties: {
            kid: { type: 'string' },
            alg: { type: 'string', enum: ['RS256', 'ES256'] },
            state: { type: 'string', enum: ['active', 'retired', 'expired'], description: 'active signs; retired only verifies; expired is no longer published.' },
            published: { type: 'boolean', description: 'Listed at /jwks.' },
            created_at: timestamp,
            retired_at: nullableTimestamp,
            published_until: nullableTimestamp,
          },
        },
        AuditEvent: {
          type: 'object',
          required: ['id', 'at', 'actor', 'action'],
          properties: {
            id: { type: 'string' },
            at: timestamp,
            actor: { type: 'string', description: '`account:<sub>`, `client:<client_id>`, `cli` or `anonymous`.' },
            action: { type: 'string', examples: ['login', 'login_failed', 'consent', 'token_revoked', 'client_created', 'user_disabled', 'keys_rotated'] },
            subject: { type: ['string', 'null'] },
            detail: { type: 'object' },
            ip: { type: ['string', 'null'] },
          },
        },
      },
    },
  };
}
