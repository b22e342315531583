/** Whether a lease exists, as the lease store sees it when a put is applied. */
export interface LeaseLookup {
  exists(id: bigint): boolean;
}

export const LEASE_LOOKUP = Symbol.for('cairn.port.LeaseLookup');
