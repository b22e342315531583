import type { PluginContext } from './plugin.js';

/** A peer URL the member's config names: whose, and the setting it came from (for a message that names the key). */
export interface ConfiguredPeerUrl {
  readonly member: string;
  readonly url: string;
  /** `initial-cluster: n2=http://10.0.0.2:2380` or `initial-advertise-peer-urls: http://10.0.0.4:2380`. */
  readonly setting: string;
}

type PeerUrlContext = Pick<PluginContext, 'name' | 'initialCluster' | 'advertisePeerUrls'>;

/** This member's peer URLs as the cluster knows them: its initial-cluster entry, else (a member joining a cluster) what it advertises. */
export function ownPeerUrls(context: PeerUrlContext): readonly string[] {
  return context.initialCluster.get(context.name) ?? context.advertisePeerUrls;
}

/**
 * Every peer URL the config gives the cluster at start: each founding member's, and this member's
 * advertised ones when the initial cluster does not name it (otherwise they are not used, and
 * their default `http://localhost:2380` is no mistake). A transport's `createModule` checks these
 * are its kind, so a config meant for another transport fails as a config error.
 */
export function configuredPeerUrls(context: PeerUrlContext): ConfiguredPeerUrl[] {
  const named = [...context.initialCluster].flatMap(([member, urls]) => urls.map((url) => ({ member, url, setting: `initial-cluster: ${member}=${url}` })));
  if (context.initialCluster.has(context.name)) return named;
  return [...named, ...context.advertisePeerUrls.map((url) => ({ member: context.name, url, setting: `initial-advertise-peer-urls: ${url}` }))];
}
