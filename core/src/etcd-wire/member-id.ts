/*
 * The core names members by hex ID strings (as etcdctl prints them); the wire carries uint64s,
 * which decoded messages carry as decimal strings.
 */

/** A hex member ID as a uint64 decimal string for the wire ("" or "0" → "0"). */
export function memberIdToWire(hex: string): string {
  return hex === '' ? '0' : BigInt(`0x${hex}`).toString();
}

/**
 * A uint64 decimal string from the wire as the core's hex member ID: 16 digits, zero-padded (one
 * ID in 16 starts with a 0 digit and would otherwise name no member); 0 stays "0", "no member".
 */
export function memberIdFromWire(decimal: string): string {
  const id = BigInt(decimal === '' ? 0 : decimal);
  return id === 0n ? '0' : id.toString(16).padStart(16, '0');
}
