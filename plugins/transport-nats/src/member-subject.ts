/*
 * Peer URLs over NATS name a member's subject, not a host: `nats://n1` is the member whose
 * subject ends in `n1`. The full subject is `<subjectPrefix>.<cluster token>.<name>`, so two
 * clusters sharing NATS servers (with different --initial-cluster-token) never see each other's
 * traffic, and one cluster's members are all under `<subjectPrefix>.<cluster token>.>` for
 * permissions and monitoring.
 */

/** One subject token: what NATS allows there, minus characters shells and URLs trip over. */
const TOKEN = /^[A-Za-z0-9_-]+$/;
/** A member's name in a peer URL: one or more tokens joined by dots (`nats://dc1.n1`). */
const PEER_URL = /^nats:\/\/([A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*)\/?$/;

/** The subject name in a `nats://name` peer URL; throws with the offending text otherwise. */
export function memberNameOf(url: string): string {
  const match = PEER_URL.exec(url);
  if (match === null) {
    if (!url.startsWith('nats://')) throw new Error(`"${url}" is not a NATS peer URL (want nats://<member-name>)`);
    throw new Error(
      `"${url}": a NATS peer URL is nats://<name>, the name made of letters, digits, '_' and '-' (dots between parts); no port, path or credentials`,
    );
  }
  return match[1]!;
}

/** True for the peer URLs this transport serves. */
export function isNatsPeerUrl(url: string): boolean {
  return PEER_URL.test(url);
}

/** A subject prefix from the options: dot-separated tokens. */
export function checkSubjectPrefix(prefix: string): string {
  if (!prefix.split('.').every((token) => TOKEN.test(token))) {
    throw new Error(`subjectPrefix "${prefix}" must be dot-separated tokens of letters, digits, '_' and '-'`);
  }
  return prefix;
}

/** The cluster token as one subject token: itself when it is one, else `x` and its UTF-8 in hex (no two tokens collide). */
export function clusterTokenSubject(token: string): string {
  return TOKEN.test(token) && !token.startsWith('x') ? token : `x${Buffer.from(token, 'utf8').toString('hex')}`;
}

/** Builds the subjects of one cluster's members. */
export class MemberSubjects {
  private readonly base: string;

  constructor(subjectPrefix: string, clusterToken: string) {
    this.base = `${checkSubjectPrefix(subjectPrefix)}.${clusterTokenSubject(clusterToken)}`;
  }

  /** The subject of the member at `url` (a nats:// peer URL). */
  of(url: string): string {
    return `${this.base}.${memberNameOf(url)}`;
  }

  /** Every member subject of the cluster (a wildcard: for permissions and debugging). */
  all(): string {
    return `${this.base}.>`;
  }
}
