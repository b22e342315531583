/**
 * The process environment as the entry point saw it. Only the assembly reads it (for settings
 * that tests shorten, like the watch progress interval); the kernel gets values, not variables.
 */
export type Environment = Readonly<Record<string, string | undefined>>;

export const ENVIRONMENT = Symbol.for('cairn.value.Environment');
