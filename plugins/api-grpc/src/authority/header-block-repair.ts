import { isAuthorityField, nghttp2RejectsAuthority } from './authority-rule.js';
import type { HeaderField } from './hpack-decoder.js';

/** Whether a decoded header list has an authority (`:authority` or `host`) that Node's HTTP/2 server would refuse. */
export function hasRejectedAuthority(fields: readonly HeaderField[]): boolean {
  return fields.some((field) => isAuthorityField(field.name) && nghttp2RejectsAuthority(field.value));
}

/** The header list with each authority Node would refuse replaced by `replacement` (the listener's `host:port`). */
export function repairAuthority(fields: readonly HeaderField[], replacement: string): readonly HeaderField[] {
  if (!hasRejectedAuthority(fields)) return fields;
  return fields.map((field) => (isAuthorityField(field.name) && nghttp2RejectsAuthority(field.value) ? { ...field, value: replacement } : field));
}
