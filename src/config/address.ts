// Network addresses written as "host:port" ("127.0.0.1:7201", "node1.local:7201", "[::1]:7201").

export interface Address {
  /** Host name or IP address (IPv6 without the brackets). */
  readonly host: string;
  /** TCP port, 1..65535. */
  readonly port: number;
}

/** Parses "host:port"; undefined when the host is empty or the port is not 1..65535. */
export function parseAddress(text: string): Address | undefined {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:[\]]+)):(\d{1,5})$/.exec(text);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  return { host: m[1] ?? m[2]!, port };
}

/** The "host:port" text of an address (IPv6 hosts in brackets). */
export function formatAddress(a: Address): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/** True for the any-interface addresses 0.0.0.0 and ::, which a node listens on but peers cannot dial. */
export function isWildcardHost(host: string): boolean {
  return host === '0.0.0.0' || host === '::';
}
