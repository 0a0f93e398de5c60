/**
 * The Content-Security-Policy of the renderer: sent by the browser bridge on every response and set by the
 * Electron main process on every response it loads (index.html carries it too, as a meta tag, without
 * frame-ancestors, which a meta tag cannot set).
 */
export const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'";
