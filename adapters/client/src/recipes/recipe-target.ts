/**
 * What a recipe that does not need a lease of its own runs on: a Session (then its waiting calls
 * also give up with SessionLostError when the session is lost) or a bare Client (they wait until
 * the caller's signal or timeout says otherwise).
 */
import type { Client } from '../client.js';
import type { Session } from '../session.js';

export type RecipeTarget = Session | Client;

export function sessionOf(target: RecipeTarget): Session | undefined {
  return typeof (target as Partial<Session>).lease === 'bigint' ? (target as Session) : undefined;
}

export function clientOf(target: RecipeTarget): Client {
  return sessionOf(target)?.client ?? (target as Client);
}
