import type { SigningKeyRecord } from '../../storage/storage.ts';
import { t } from '../i18n/translate.ts';
import { html } from '../pages/html.ts';
import { adminLayout, time, type AdminPageFrame } from '../admin/admin-layout.ts';
import { keyStatus } from '../admin/admin-json.ts';

export function keysPage(frame: AdminPageFrame, keys: SigningKeyRecord[], now: number): string {
  const l = frame.locale;
  return adminLayout(
    frame,
    html`<h1>${t(l, 'admin.keys.title')}</h1>
<p>${t(l, 'admin.keys.intro')}</p>
<div class="table-wrap"><table>
<thead><tr><th scope="col">${t(l, 'admin.keys.kid')}</th><th scope="col">${t(l, 'admin.keys.alg')}</th><th scope="col">${t(l, 'admin.keys.state')}</th><th scope="col">${t(l, 'admin.keys.created')}</th><th scope="col">${t(l, 'admin.keys.publishedUntil')}</th></tr></thead>
<tbody>
${keys.map(
  (key) => html`<tr><td><code>${key.kid}</code></td><td>${key.alg}</td><td>${t(l, `admin.keys.status.${keyStatus(key, now)}`)}</td><td>${time(l, key.createdAt)}</td><td>${
    key.state === 'active' ? html`<span class="muted">${t(l, 'admin.keys.whileActive')}</span>` : time(l, key.publishUntil)
  }</td></tr>
`,
)}</tbody>
</table></div>
<section class="panel">
<h2>${t(l, 'admin.keys.rotate')}</h2>
<p>${t(l, 'admin.keys.rotateIntro')}</p>
<form method="post" action="/admin/keys/rotate">
<input type="hidden" name="_csrf" value="${frame.csrfToken}">
<button type="submit">${t(l, 'admin.keys.rotateButton')}</button>
</form>
</section>`,
  );
}
