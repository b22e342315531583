/**
 * The transport-neutral services an API frontend serves. Each service is added here as it lands;
 * frontends depend on this shape only, never on how the node implements it.
 */
export interface CairnServices {
  /** Identity of the member serving these services. */
  readonly identity: { readonly clusterId: string; readonly memberId: string; readonly name: string };
}
