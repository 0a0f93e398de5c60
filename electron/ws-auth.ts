/**
 * How the browser-mode client authenticates its job-event WebSocket: never in the URL (URLs end up in logs, proxies
 * and history) but in the Sec-WebSocket-Protocol header, the one header a page may set on a WebSocket. The client
 * offers two subprotocols, EVENTS_PROTOCOL and TOKEN_PROTOCOL_PREFIX + token; the bridge checks the token before
 * the upgrade (401 otherwise) and selects EVENTS_PROTOCOL, so the token is never echoed back.
 * No imports: the renderer's bundle includes this file.
 */
export const EVENTS_PROTOCOL = 'shardlab.events.v1';
export const TOKEN_PROTOCOL_PREFIX = 'shardlab.token.';

/** The subprotocols a client offers to the bridge's /ws with this token. */
export function wsProtocols(token: string): string[] {
  return [EVENTS_PROTOCOL, `${TOKEN_PROTOCOL_PREFIX}${token}`];
}

/** The token among the offered subprotocols (the raw Sec-WebSocket-Protocol header), if the client offered one. */
export function offeredToken(header: string | undefined): { events: boolean; token?: string } {
  const offered = (header ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const tokens = offered.filter((p) => p.startsWith(TOKEN_PROTOCOL_PREFIX));
  return {
    events: offered.includes(EVENTS_PROTOCOL),
    token: tokens.length === 1 ? tokens[0].slice(TOKEN_PROTOCOL_PREFIX.length) : undefined,
  };
}
