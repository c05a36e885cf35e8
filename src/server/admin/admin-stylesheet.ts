/**
 * The admin console's stylesheet, served from /admin/assets/admin.css: wider than the login card,
 * tables that scroll sideways on a phone, the same colours and focus ring as the user's pages.
 */
export const adminStylesheet = `
*, *::before, *::after { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", "Noto Sans", "Noto Sans CJK KR", sans-serif;
  background: #f3f4f6; color: #111827; }
a { color: #1d4ed8; }
header.bar { display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem 1.5rem; padding: 0.75rem 1rem;
  background: #fff; border-bottom: 1px solid #d1d5db; }
header.bar .brand { font-weight: 700; color: #1d4ed8; text-decoration: none; }
header.bar nav ul { display: flex; flex-wrap: wrap; gap: 0.25rem 1rem; margin: 0; padding: 0; list-style: none; }
header.bar nav a { text-decoration: none; padding: 0.25rem 0; }
header.bar nav a[aria-current="page"] { font-weight: 700; border-bottom: 2px solid #1d4ed8; }
header.bar form { margin-left: auto; display: flex; align-items: center; gap: 0.75rem; }
main { max-width: 72rem; margin: 0 auto; padding: 1.5rem 1rem 3rem; }
h1 { margin: 0 0 1rem; font-size: 1.5rem; }
h2 { margin: 2rem 0 0.75rem; font-size: 1.125rem; }
section.panel { margin: 0 0 1.5rem; padding: 1.25rem; background: #fff; border-radius: 0.5rem; box-shadow: 0 1px 3px rgb(0 0 0 / 0.12); }
section.panel > h2:first-child { margin-top: 0; }
.table-wrap { overflow-x: auto; margin-bottom: 1.5rem; }
table { width: 100%; border-collapse: collapse; background: #fff; }
th, td { padding: 0.5rem 0.75rem; border-bottom: 1px solid #e5e7eb; text-align: left; vertical-align: top; }
th { font-size: 0.875rem; color: #374151; }
td code, td pre { font-size: 0.8125rem; }
pre { margin: 0; white-space: pre-wrap; word-break: break-all; }
label { display: block; margin: 1rem 0 0.25rem; font-weight: 600; }
fieldset { min-width: 0; max-width: 40rem; margin: 1rem 0 0; padding: 0.5rem 1rem 0.75rem; border: 1px solid #d1d5db; border-radius: 0.375rem; }
legend { font-weight: 600; padding: 0 0.25rem; }
fieldset label { display: flex; flex-wrap: wrap; gap: 0 0.5rem; align-items: baseline; margin: 0.5rem 0 0; font-weight: 400; }
fieldset label .muted { flex: 1 1 14rem; }
input[type=text], input[type=password], input[type=email], input[type=number], select, textarea {
  width: 100%; max-width: 40rem; padding: 0.5rem 0.75rem; font: inherit; border: 1px solid #6b7280; border-radius: 0.375rem; background: #fff; }
textarea { min-height: 5rem; font-family: ui-monospace, monospace; font-size: 0.875rem; }
.hint { margin: 0.25rem 0 0; color: #4b5563; font-size: 0.875rem; }
button { padding: 0.5rem 1rem; font: inherit; font-weight: 600; border: 1px solid #1d4ed8; border-radius: 0.375rem;
  background: #1d4ed8; color: #fff; cursor: pointer; }
button.secondary { background: #fff; color: #1d4ed8; }
button.danger { background: #b91c1c; border-color: #b91c1c; }
form.inline { display: inline; }
.actions { display: flex; flex-wrap: wrap; gap: 0.75rem; align-items: center; margin-top: 1.25rem; }
:focus-visible { outline: 3px solid #f59e0b; outline-offset: 2px; }
.notice { padding: 0.75rem; border-radius: 0.375rem; background: #ecfdf5; color: #065f46; }
.error { padding: 0.75rem; border-radius: 0.375rem; background: #fef2f2; color: #991b1b; }
.secret { padding: 1rem; border: 2px dashed #b45309; border-radius: 0.375rem; background: #fffbeb; }
.secret code { font-size: 1rem; word-break: break-all; }
.badge { display: inline-block; padding: 0 0.5rem; border-radius: 999px; font-size: 0.8125rem; background: #e5e7eb; color: #1f2937; }
.badge.on { background: #dbeafe; color: #1e3a8a; }
.badge.off { background: #fee2e2; color: #991b1b; }
.muted { color: #4b5563; font-size: 0.875rem; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.25rem 1rem; margin: 0; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; word-break: break-all; }
footer.site { max-width: 72rem; margin: 0 auto; padding: 0 1rem 2rem; text-align: center; font-size: 0.875rem; color: #4b5563; }
footer.site ul { display: flex; justify-content: center; gap: 1rem; margin: 0; padding: 0; list-style: none; }
footer.site a, footer.site [aria-current] { display: inline-block; padding: 0.25rem 0.5rem; }
footer.site [aria-current] { font-weight: 600; color: #111827; }
@media (max-width: 40rem) { dl.facts { grid-template-columns: 1fr; } dl.facts dd { margin-bottom: 0.5rem; } header.bar form { margin-left: 0; } }
`;
