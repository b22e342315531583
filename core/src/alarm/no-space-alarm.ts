/**
 * Raises etcd's NOSPACE alarm for this member (through the log, so every member refuses writes).
 * The quota needs it; the service layer implements it, so the alarm layer stays below services.
 */
export interface NoSpaceAlarm {
  raise(): Promise<void>;
}

export const NO_SPACE_ALARM = Symbol.for('cairn.port.NoSpaceAlarm');
