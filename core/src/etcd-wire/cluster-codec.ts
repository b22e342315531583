import type { Member, MemberChangeResponse, MemberListResponse } from '../api/services.js';
import { headerToWire } from './kv-codec.js';
import { memberIdToWire } from './member-id.js';
import type { WireMember, WireMembersResponse } from './wire-types.js';

export function memberToWire(member: Member): WireMember {
  return {
    ID: memberIdToWire(member.id),
    name: member.name,
    peerURLs: [...member.peerURLs],
    clientURLs: [...member.clientURLs],
    isLearner: member.isLearner,
  };
}

export function memberListResponseToWire(response: MemberListResponse): WireMembersResponse {
  return { header: headerToWire(response.header), members: response.members.map(memberToWire) };
}

/** MemberAdd answers the added member too (`withMember`); the other changes answer only the list. */
export function memberChangeResponseToWire(response: MemberChangeResponse, withMember: boolean): WireMembersResponse {
  const wire: WireMembersResponse = { header: headerToWire(response.header), members: response.members.map(memberToWire) };
  if (withMember && response.member !== undefined) wire.member = memberToWire(response.member);
  return wire;
}
