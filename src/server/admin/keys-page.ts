import type { SigningKeyRecord } from '../../storage/storage.ts';
import { html } from '../pages/html.ts';
import { adminLayout, time, type AdminPageFrame } from './admin-layout.ts';
import { keyStatus, type KeyStatus } from './admin-json.ts';

const statusText: Record<KeyStatus, string> = {
  active: 'active — signs new tokens',
  retired: 'retired — still published, verifies tokens it signed',
  expired: 'expired — no longer published',
};

export function keysPage(frame: AdminPageFrame, keys: SigningKeyRecord[], now: number): string {
  return adminLayout(
    frame,
    html`<h1>Signing keys</h1>
<p>ID tokens and JWT access tokens are signed with these keys; their public parts are published at <a href="/jwks">/jwks</a>.</p>
<div class="table-wrap"><table>
<thead><tr><th scope="col">Key ID</th><th scope="col">Algorithm</th><th scope="col">State</th><th scope="col">Created</th><th scope="col">Published until</th></tr></thead>
<tbody>
${keys.map(
  (key) => html`<tr><td><code>${key.kid}</code></td><td>${key.alg}</td><td>${statusText[keyStatus(key, now)]}</td><td>${time(key.createdAt)}</td><td>${
    key.state === 'active' ? html`<span class="muted">while active</span>` : time(key.publishUntil)
  }</td></tr>
`,
)}</tbody>
</table></div>
<section class="panel">
<h2>Rotate</h2>
<p>New keys start signing at once. The current keys stay published until every token they signed has expired, so nothing already issued stops verifying.</p>
<form method="post" action="/admin/keys/rotate">
<input type="hidden" name="_csrf" value="${frame.csrfToken}">
<button type="submit">Rotate signing keys</button>
</form>
</section>`,
  );
}
