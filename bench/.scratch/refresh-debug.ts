import { ServerProcess, stopAll } from '../harness/server-process.ts';
import { signIn, userTokens, postToken, refreshBody } from '../harness/oauth-client.ts';
import { basicAuthorization } from '../servers/protocol.ts';
const server = await ServerProcess.start({ name: 'oidc-provider', script: 'oidc-provider.ts' }, '/tmp', console.log);
const ready = server.ready; const web = ready.web!;
const cookie = await signIn(ready, web, 'openid profile offline_access');
const pool: string[] = [];
for (let i = 0; i < 40; i++) pool.push((await userTokens(ready, web, cookie, web.oauthScope)).refresh_token!);
let errors = 0; let ok = 0;
await Promise.all(Array.from({ length: 32 }, async () => {
  for (let i = 0; i < 40; i++) {
    const token = pool.shift()!;
    const r = await fetch(ready.url + '/token', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuthorization(web) }, body: refreshBody(token) });
    const j = await r.json() as Record<string, string>;
    if (r.status !== 200) { errors++; if (errors < 5) console.log(r.status, j); } else { ok++; pool.push(j.refresh_token!); }
  }
}));
console.log({ ok, errors });
await stopAll();
