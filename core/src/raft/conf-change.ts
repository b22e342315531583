import { ConfChangeType, type ConfChange, type ConfState, type MemberId } from '../protocol/raft-types.js';

/**
 * The bytes of a ConfChange entry: type (1 byte) | member id length (1) | member id (UTF-8) |
 * context. The context is opaque to Raft (the cluster layer keeps peer URLs and names there).
 */
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeConfChange(change: ConfChange): Uint8Array {
  const id = encoder.encode(change.memberId);
  if (id.length > 255) throw new RangeError(`member id too long: ${change.memberId}`);
  const out = new Uint8Array(2 + id.length + change.context.length);
  out[0] = change.type;
  out[1] = id.length;
  out.set(id, 2);
  out.set(change.context, 2 + id.length);
  return out;
}

export function decodeConfChange(data: Uint8Array): ConfChange {
  if (data.length < 2) throw new Error('conf change entry is truncated');
  const type = data[0]!;
  if (!(type in ConfChangeType)) throw new Error(`unknown conf change type ${type}`);
  const idLength = data[1]!;
  if (data.length < 2 + idLength) throw new Error('conf change entry is truncated');
  return {
    type: type as ConfChangeType,
    memberId: decoder.decode(data.subarray(2, 2 + idLength)),
    context: data.slice(2 + idLength),
  };
}

/** The membership after `change`; changes that are already in effect leave it as it is. */
export function applyConfChangeTo(conf: ConfState, change: ConfChange): ConfState {
  const without = (list: readonly MemberId[]): MemberId[] => list.filter((m) => m !== change.memberId);
  const sorted = (list: MemberId[]): MemberId[] => list.sort();
  switch (change.type) {
    case ConfChangeType.AddVoter:
    case ConfChangeType.PromoteLearner:
      return { voters: sorted([...without(conf.voters), change.memberId]), learners: without(conf.learners) };
    case ConfChangeType.AddLearner:
      // A voter is never demoted by AddLearner (etcd refuses it before it reaches the log).
      if (conf.voters.includes(change.memberId)) return conf;
      return { voters: [...conf.voters], learners: sorted([...without(conf.learners), change.memberId]) };
    case ConfChangeType.RemoveMember:
      return { voters: without(conf.voters), learners: without(conf.learners) };
    case ConfChangeType.UpdateMember:
      // Only the member's peer URLs change, which Raft does not keep.
      return conf;
  }
}

/** The context of an AddVoter/AddLearner/UpdateMember entry: JSON with the member's peer URLs. */
export function memberChangeContext(peerURLs: readonly string[]): Uint8Array {
  return encoder.encode(JSON.stringify({ peerURLs }));
}

/** The peer URLs a ConfChange context carries ([] when it carries none, or is not such JSON). */
export function peerUrlsOfContext(context: Uint8Array): string[] {
  if (context.length === 0) return [];
  try {
    const urls = (JSON.parse(decoder.decode(context)) as { peerURLs?: unknown } | null)?.peerURLs;
    return Array.isArray(urls) ? urls.filter((u): u is string => typeof u === 'string') : [];
  } catch {
    return [];
  }
}
