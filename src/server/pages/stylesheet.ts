/** The one stylesheet of every page, served from /assets/gatehouse.css. */
export const stylesheet = `
*, *::before, *::after { box-sizing: border-box; }
body { margin: 0; min-height: 100vh; display: flex; align-items: center; justify-content: center;
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", "Noto Sans", "Noto Sans CJK KR", sans-serif;
  background: #f3f4f6; color: #111827; }
.card { width: 100%; max-width: 26rem; margin: 1rem; padding: 2rem; background: #fff;
  border-radius: 0.75rem; box-shadow: 0 1px 3px rgb(0 0 0 / 0.12); }
.brand { margin: 0 0 1rem; font-weight: 700; color: #1d4ed8; }
h1 { margin: 0 0 1rem; font-size: 1.375rem; }
label { display: block; margin: 1rem 0 0.25rem; font-weight: 600; }
input[type=text], input[type=password] { width: 100%; padding: 0.625rem 0.75rem; font: inherit;
  border: 1px solid #6b7280; border-radius: 0.375rem; }
button { margin-top: 1.25rem; padding: 0.625rem 1.25rem; font: inherit; font-weight: 600;
  border: 1px solid #1d4ed8; border-radius: 0.375rem; background: #1d4ed8; color: #fff; cursor: pointer; }
button.secondary { background: #fff; color: #1d4ed8; }
:focus-visible { outline: 3px solid #f59e0b; outline-offset: 2px; }
.actions { display: flex; gap: 0.75rem; flex-wrap: wrap; }
.error { padding: 0.75rem; border-radius: 0.375rem; background: #fef2f2; color: #991b1b; }
.scopes { padding-left: 1.25rem; }
.muted { color: #4b5563; font-size: 0.875rem; }
code { word-break: break-all; }
`;
