/**
 * Where the Electron window may be, and what it may open outside: free of Electron, so the unit tests run it.
 *   - The app is served from a privileged custom protocol, app://shardlab/ (electron/main.ts registers it and serves
 *     dist/renderer/ through electron/files.ts), never from file://. Its one page is APP_INDEX_URL.
 *   - External links go to the system browser only when they are https on an allow-listed host, with no user
 *     name, password or port. The renderer links to no outside page today (SoC sources are shown as text, not as
 *     links), so the list is empty: every external link is refused and logged. Add a host here, with the page that
 *     links to it, when the UI gets such a link.
 */
export const APP_SCHEME = 'app';
export const APP_HOST = 'shardlab';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_INDEX_URL = `${APP_ORIGIN}/index.html`;

/** Hosts (exact names) whose https pages the app may open in the system browser. */
export const EXTERNAL_HOSTS: readonly string[] = [];

function parse(url: string): URL | undefined {
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}

/** Whether `url` is the app's own page (any fragment; no query), the one place the window may navigate to. */
export function isAppPage(url: string): boolean {
  const u = parse(url);
  return (
    !!u &&
    u.protocol === `${APP_SCHEME}:` &&
    u.host === APP_HOST &&
    u.pathname === '/index.html' &&
    u.search === '' &&
    !u.username &&
    !u.password
  );
}

/** Whether `url` may be handed to shell.openExternal: https, an allow-listed host, nothing else in the authority. */
export function externalLinkAllowed(url: string, hosts: readonly string[] = EXTERNAL_HOSTS): boolean {
  const u = parse(url);
  return !!u && u.protocol === 'https:' && !u.username && !u.password && u.port === '' && hosts.includes(u.hostname);
}

/** A URL shortened for a one-line log entry. */
export function forLog(url: string): string {
  return JSON.stringify(url.length > 200 ? `${url.slice(0, 197)}...` : url);
}
