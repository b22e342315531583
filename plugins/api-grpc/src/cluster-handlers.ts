import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import type { ClusterService, Member, MemberChangeResponse } from '@cairn/core';
import { headerToWire } from './kv-codec.js';
import { memberIdFromWire, memberIdToWire } from './member-id.js';
import { unaryHandler } from './unary-handler.js';
import type {
  WireMember,
  WireMemberAddRequest,
  WireMemberIdRequest,
  WireMemberListRequest,
  WireMembersResponse,
  WireMemberUpdateRequest,
} from './wire-types.js';

function memberToWire(member: Member): WireMember {
  return {
    ID: memberIdToWire(member.id),
    name: member.name,
    peerURLs: [...member.peerURLs],
    clientURLs: [...member.clientURLs],
    isLearner: member.isLearner,
  };
}

/** MemberAdd answers the added member too; the other changes answer only the list. */
function changeToWire(response: MemberChangeResponse, withMember: boolean): WireMembersResponse {
  const wire: WireMembersResponse = { header: headerToWire(response.header), members: response.members.map(memberToWire) };
  if (withMember && response.member !== undefined) wire.member = memberToWire(response.member);
  return wire;
}

/** etcd's Cluster service over the core's ClusterService. */
export function clusterHandlers(cluster: ClusterService): UntypedServiceImplementation {
  return {
    MemberList: unaryHandler(async (request: WireMemberListRequest): Promise<WireMembersResponse> => {
      const response = await cluster.memberList(request.linearizable);
      return { header: headerToWire(response.header), members: response.members.map(memberToWire) };
    }),
    MemberAdd: unaryHandler(async (request: WireMemberAddRequest): Promise<WireMembersResponse> =>
      changeToWire(await cluster.memberAdd(request.peerURLs, request.isLearner), true),
    ),
    MemberRemove: unaryHandler(async (request: WireMemberIdRequest): Promise<WireMembersResponse> =>
      changeToWire(await cluster.memberRemove(memberIdFromWire(request.ID)), false),
    ),
    MemberUpdate: unaryHandler(async (request: WireMemberUpdateRequest): Promise<WireMembersResponse> =>
      changeToWire(await cluster.memberUpdate(memberIdFromWire(request.ID), request.peerURLs), false),
    ),
    MemberPromote: unaryHandler(async (request: WireMemberIdRequest): Promise<WireMembersResponse> =>
      changeToWire(await cluster.memberPromote(memberIdFromWire(request.ID)), false),
    ),
  };
}
