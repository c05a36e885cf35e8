import { html, type Html } from '../pages/html.ts';

/** The console's sections, in the order of its navigation. */
export type AdminSection = 'overview' | 'clients' | 'users' | 'keys' | 'events';

const sections: { section: AdminSection; href: string; label: string }[] = [
  { section: 'overview', href: '/admin', label: 'Overview' },
  { section: 'clients', href: '/admin/clients', label: 'Clients' },
  { section: 'users', href: '/admin/users', label: 'Users' },
  { section: 'keys', href: '/admin/keys', label: 'Signing keys' },
  { section: 'events', href: '/admin/events', label: 'Events' },
];

export interface AdminPageFrame {
  /** The configured product name (branding). */
  productName: string;
  title: string;
  section: AdminSection;
  /** The administrator, shown in the bar with a sign-out button. */
  username: string;
  csrfToken: string;
  /** A one-line confirmation of what was just done. */
  notice?: string | undefined;
  error?: string | undefined;
}

/** Every console page: the bar with the sections, then the page. No script, one stylesheet of our own. */
export function adminLayout(frame: AdminPageFrame, body: Html): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${frame.title} · ${frame.productName} admin</title>
<link rel="stylesheet" href="/admin/assets/admin.css">
</head>
<body>
<header class="bar">
<a class="brand" href="/admin">${frame.productName} admin</a>
<nav aria-label="Admin sections"><ul>
${sections.map(
  ({ section, href, label }) => html`<li><a href="${href}"${section === frame.section ? html` aria-current="page"` : ''}>${label}</a></li>
`,
)}</ul></nav>
<form method="post" action="/logout">
<input type="hidden" name="_csrf" value="${frame.csrfToken}">
<span class="muted">Signed in as <strong>${frame.username}</strong></span>
<button type="submit" class="secondary">Sign out</button>
</form>
</header>
<main>
${frame.notice && html`<p class="notice" role="status">${frame.notice}</p>`}
${frame.error && html`<p class="error" role="alert">${frame.error}</p>`}
${body}
</main>
</body>
</html>
`.value;
}

/** Shown to a signed-in user who is not an administrator (403). */
export function forbiddenPage(productName: string, username: string, csrfToken: string): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Not an administrator · ${productName} admin</title>
<link rel="stylesheet" href="/admin/assets/admin.css">
</head>
<body>
<main>
<section class="panel">
<h1>Not an administrator</h1>
<p class="error" role="alert">You are signed in as <strong>${username}</strong>, which is not an administrator account. The admin console is for administrators only.</p>
<div class="actions">
<a href="/">Home</a>
<form method="post" action="/logout" class="inline"><input type="hidden" name="_csrf" value="${csrfToken}"><button type="submit" class="secondary">Sign out</button></form>
</div>
</section>
</main>
</body>
</html>
`.value;
}

/** A time as people read it, with the exact instant for machines. */
export function time(value: number | null): Html {
  if (value === null) return html`<span class="muted">never</span>`;
  const iso = new Date(value).toISOString();
  return html`<time datetime="${iso}">${iso.slice(0, 19).replace('T', ' ')} UTC</time>`;
}
