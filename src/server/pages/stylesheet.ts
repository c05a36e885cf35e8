/**
 * The one stylesheet of every page, served from /assets/gatehouse.css. Brand colors come from
 * /assets/theme.css (see theme.ts); the fallbacks here are the default theme. Contrast of every
 * text color on its background passes WCAG AA; focus is always visible.
 */
export const stylesheet = `
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body { margin: 0; min-height: 100vh; display: flex; flex-direction: column; align-items: center; justify-content: center;
  padding: 1.5rem 0.75rem; gap: 1rem;
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", "Noto Sans", "Noto Sans CJK KR", "Apple SD Gothic Neo", "Malgun Gothic", sans-serif;
  background: #f3f4f6; color: #111827; word-break: keep-all; overflow-wrap: anywhere; }
.brand, .card, .site { width: 100%; max-width: 28rem; }
.wide { max-width: 42rem; }
.brand { display: flex; align-items: center; gap: 0.5rem; margin: 0; font-weight: 700; font-size: 1.125rem;
  color: var(--primary-text, #1d4ed8); }
.brand img { height: 2rem; width: auto; }
.card { padding: 2rem; background: #fff; border-radius: 0.75rem; box-shadow: 0 1px 3px rgb(0 0 0 / 0.12); }
h1 { margin: 0 0 1rem; font-size: 1.375rem; line-height: 1.35; }
h2 { margin: 2rem 0 0.75rem; font-size: 1.125rem; }
h3 { margin: 0; font-size: 1rem; }
p { margin: 0 0 1rem; }
.card > :last-child { margin-bottom: 0; }
.note { margin-top: 1.25rem; }
a { color: var(--primary-text, #1d4ed8); text-underline-offset: 0.15em; }
label { display: block; margin: 1rem 0 0.25rem; font-weight: 600; }
input[type=text], input[type=password] { width: 100%; padding: 0.625rem 0.75rem; font: inherit; color: inherit;
  background: #fff; border: 1px solid #6b7280; border-radius: 0.375rem; }
button { margin-top: 1.25rem; min-height: 2.75rem; padding: 0.625rem 1.25rem; font: inherit; font-weight: 600;
  border: 1px solid var(--primary, #1d4ed8); border-radius: 0.375rem;
  background: var(--primary, #1d4ed8); color: var(--on-primary, #fff); cursor: pointer; }
button.secondary { background: #fff; color: var(--primary-text, #1d4ed8); border-color: var(--primary-text, #1d4ed8); }
button.danger { background: #fff; color: #b91c1c; border-color: #b91c1c; }
:focus-visible { outline: 3px solid var(--primary-text, #1d4ed8); outline-offset: 2px; }
input:focus-visible { outline-offset: 0; }
.actions { display: flex; gap: 0.75rem; flex-wrap: wrap; }
.actions button { flex: 1 1 8rem; }
.error { padding: 0.75rem; border-radius: 0.375rem; background: #fef2f2; color: #991b1b; }
.notice { padding: 0.75rem; border-radius: 0.375rem; background: #ecfdf5; color: #065f46; }
.scopes { margin: 0 0 1rem; padding-left: 1.25rem; }
.scopes li + li { margin-top: 0.25rem; }
.muted { color: #4b5563; font-size: 0.875rem; }
.hint { margin: 0.25rem 0 0; color: #4b5563; font-size: 0.875rem; }
code { word-break: break-all; }
.apps { list-style: none; margin: 0; padding: 0; }
.apps > li { padding: 1rem 0; border-top: 1px solid #e5e7eb; }
.apps > li:last-child { border-bottom: 1px solid #e5e7eb; }
.apps .scopes { margin: 0.25rem 0 0.5rem; }
.apps p { margin: 0.25rem 0 0; }
.apps button { margin-top: 0.75rem; }
.account-head { display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between; gap: 0 1rem; }
.account-head p { margin: 0; }
.account-head button { margin-top: 0; }
.site { text-align: center; font-size: 0.875rem; color: #4b5563; }
.site ul { display: flex; justify-content: center; gap: 1rem; margin: 0; padding: 0; list-style: none; }
.site a { display: inline-block; padding: 0.25rem 0.5rem; }
.site [aria-current] { display: inline-block; padding: 0.25rem 0.5rem; font-weight: 600; color: #111827; }
.visually-hidden { position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden;
  clip-path: inset(50%); white-space: nowrap; border: 0; }
@media (max-width: 30rem) {
  body { justify-content: flex-start; padding: 0.75rem 0.5rem; }
  .card { padding: 1.25rem; }
}
@media (forced-colors: active) { button { border: 1px solid ButtonText; } }
`;
