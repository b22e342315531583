/**
 * The octets nghttp2 (Node's HTTP/2) accepts in `:authority` and `host`: RFC 3986's unreserved and
 * sub-delims, ':', '@', '[', ']' and '%'. Any other octet — space, `"#/<>?\^`{|}`, controls, DEL,
 * anything non-ASCII — or an empty value makes it reset the stream with PROTOCOL_ERROR, which is what etcd's Go
 * clients trip over (`http://127.0.0.1:2379`, `#initially=[...]`).
 */
const ALLOWED = (() => {
  const allowed = new Uint8Array(256);
  const mark = (chars: string): void => {
    for (const c of chars) allowed[c.charCodeAt(0)] = 1;
  };
  mark('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789');
  mark("-._~!$&'()*+,;=:@[]%");
  return allowed;
})();

/** Whether Node's HTTP/2 server would refuse this `:authority` or `host` value (latin1); it refuses an empty one too. */
export function nghttp2RejectsAuthority(value: string): boolean {
  if (value.length === 0) return true;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code > 0xff || ALLOWED[code] === 0) return true;
  }
  return false;
}

/** Whether a header field is one nghttp2 checks as an authority. */
export function isAuthorityField(name: string): boolean {
  return name === ':authority' || name === 'host';
}

/** `host:port` as an authority, brackets around an IPv6 address. */
export function authorityOf(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
