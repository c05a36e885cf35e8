import { html, type Html } from './html.ts';

/** Every page: one stylesheet from our own origin, nothing from others (CSP `default-src 'self'`). */
export function layout(title: string, body: Html): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title} · Gatehouse</title>
<link rel="stylesheet" href="/assets/gatehouse.css">
</head>
<body>
<main class="card">
<p class="brand">Gatehouse</p>
${body}
</main>
</body>
</html>
`.value;
}
