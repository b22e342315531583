/*
 * The core names members by hex ID strings (as etcdctl prints them); the wire carries uint64s,
 * which the proto loader hands over as decimal strings.
 */

/** A hex member ID as a uint64 decimal string for the wire ("" or "0" → "0"). */
export function memberIdToWire(hex: string): string {
  return hex === '' ? '0' : BigInt(`0x${hex}`).toString();
}

/** A uint64 decimal string from the wire as the core's hex member ID. */
export function memberIdFromWire(decimal: string): string {
  return BigInt(decimal === '' ? 0 : decimal).toString(16);
}
