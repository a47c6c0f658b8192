// A certified OpenID provider (panva's oidc-provider) for the console's sign-in tests: labourx
// never ships it. tests/console/oidc/provider.py installs this project with `npm ci`, writes
// the configuration below to a JSON file and starts `node provider.mjs CONFIG`.
//
// It listens on 127.0.0.1 at a port the system picks, then prints one line of JSON on stdout,
// {"issuer": "http://127.0.0.1:PORT"}, once it answers requests.
//
// CONFIG:
//   clients   OAuth clients as oidc-provider takes them (client_id, client_secret,
//             redirect_uris, post_logout_redirect_uris, grant_types, ...)
//   accounts  {accountId: {"claims": for the ID token and userinfo, "labourx": the claims
//             labourx reads from access tokens (roles, office, province, ...),
//             "accessTokenTTL": seconds (default 300), "refreshToken": false for none}}
//   signingKey an RSA private key as a JWK (optional: made here if absent)
//   resources {resource indicator (an absolute URI): {audience, scope}}: access tokens asked
//             for one of these are JWTs for that audience, signed with the keys published at
//             jwks_uri (RFC 8707 resource indicators; RFC 9068 JWT access tokens)
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

import Provider, { errors } from 'oidc-provider';

// Each step of the start is written to stderr (the test's log of the provider), so that a start
// that stalls on a busy machine says where.
const step = (what) => process.stderr.write(`labourx-test-provider: ${what}\n`);
step('oidc-provider loaded');

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));

// The test passes the RSA key to sign with (config.signingKey, a private JWK); a key is made
// here only when it does not.
const signingKey = {
  ...(config.signingKey ?? generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' })),
  kid: 'test-rs256',
  use: 'sig',
  alg: 'RS256',
};
step('signing key ready');

const server = createServer();
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  step(`listening at ${issuer}`);
  const provider = new Provider(issuer, {
    clients: config.clients,
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    // The console must prove it started the flow it finishes (PKCE, S256 only).
    pkce: { required: () => true },
    scopes: ['openid', 'profile', 'offline_access'],
    claims: { openid: ['sub'], profile: ['name', 'preferred_username'] },
    ttl: {
      AccessToken: (_ctx, token) => config.accounts[token.accountId]?.accessTokenTTL ?? 300,
    },
    async findAccount(_ctx, id) {
      const account = config.accounts[id];
      if (!account) return undefined;
      return {
        accountId: id,
        async claims() {
          return { sub: id, ...account.claims };
        },
      };
    },
    // labourx's claims go into every access token (as Keycloak's protocol mappers put them).
    async extraTokenClaims(_ctx, token) {
      if (token.kind !== 'AccessToken') return undefined;
      return config.accounts[token.accountId]?.labourx;
    },
    // Like Keycloak, a refresh token for every client allowed the grant (no offline_access
    // needed), unless the account says otherwise (a provider that gives none).
    async issueRefreshToken(_ctx, client, source) {
      const account = config.accounts[source.accountId];
      return client.grantTypeAllowed('refresh_token') && account?.refreshToken !== false;
    },
    features: {
      // The provider's own login and consent forms (the tests fill them in as a browser would).
      devInteractions: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // The resource granted at sign-in is the one its tokens (and refreshed ones) are for.
        useGrantedResource: async () => true,
        async getResourceServerInfo(_ctx, indicator) {
          const resource = config.resources[indicator];
          if (!resource) throw new errors.InvalidTarget();
          return {
            audience: resource.audience,
            scope: resource.scope ?? '',
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
  });
  server.on('request', provider.callback());
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});

// The test stops the provider with SIGTERM when it is done.
process.on('SIGTERM', () => server.close(() => process.exit(0)));
