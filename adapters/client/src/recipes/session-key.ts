/**
 * What the mutex and the election share: clientv3's key of a session under a prefix,
 * `<prefix>/<lease id in hex>`, so that this client's, etcdctl's and the server's Lock and
 * Election RPCs find each other's keys.
 */
import type { Bytes } from '../bytes.js';
import type { Client } from '../client.js';
import type { Session } from '../session.js';
import { child, leaseHex, slashed } from './recipe-keys.js';

export abstract class SessionKeyedRecipe {
  /** The prefix with its trailing slash (clientv3's `pfx + "/"`). */
  readonly prefix: Buffer;
  /** This session's key under it. */
  readonly key: Buffer;

  constructor(
    readonly session: Session,
    prefix: Bytes,
  ) {
    this.prefix = slashed(prefix);
    this.key = child(this.prefix, leaseHex(session.lease));
  }

  protected get client(): Client {
    return this.session.client;
  }
}
