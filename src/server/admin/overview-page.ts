import type { AuditEventRecord } from '../../storage/storage.ts';
import { t } from '../i18n/translate.ts';
import { html } from '../pages/html.ts';
import { adminLayout, type AdminPageFrame } from './admin-layout.ts';
import { eventsTable, type EventNames } from '../operations/admin-events-page.ts';

export interface Overview {
  clients: number;
  users: number;
  disabledUsers: number;
  activeKeys: number;
  recent: AuditEventRecord[];
}

export function overviewPage(frame: AdminPageFrame, overview: Overview, names: EventNames): string {
  const l = frame.locale;
  return adminLayout(
    frame,
    html`<h1>${t(l, 'admin.overview.title')}</h1>
<section class="panel">
<dl class="facts">
<dt><a href="/admin/clients">${t(l, 'admin.nav.clients')}</a></dt><dd>${overview.clients}</dd>
<dt><a href="/admin/users">${t(l, 'admin.nav.users')}</a></dt><dd>${overview.users}${overview.disabledUsers > 0 && html` <span class="muted">${t(l, 'admin.overview.disabled', { count: overview.disabledUsers })}</span>`}</dd>
<dt><a href="/admin/keys">${t(l, 'admin.overview.activeKeys')}</a></dt><dd>${overview.activeKeys}</dd>
</dl>
</section>
<h2>${t(l, 'admin.overview.latest')}</h2>
${eventsTable(l, overview.recent, names)}
<p><a href="/admin/events">${t(l, 'admin.overview.allEvents')}</a> · <a href="/admin/openapi.json">${t(l, 'admin.overview.api')}</a></p>`,
  );
}
