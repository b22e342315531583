import { configuredPeerUrls, ownPeerUrls, type PluginContext } from '@cairn/core';
import { isNatsPeerUrl } from './member-subject.js';

/**
 * This member's own peer URLs (the subjects it listens on), after checking that every peer URL the
 * config names is a NATS one: with TCP-style peer URLs (`http://host:port`) this transport would
 * reach no one, so `createModule` refuses the config, naming the URL and the form it wants.
 */
export function ownNatsPeerUrls(context: Pick<PluginContext, 'name' | 'initialCluster' | 'advertisePeerUrls'>): readonly string[] {
  const wrong = configuredPeerUrls(context).find(({ url }) => !isNatsPeerUrl(url));
  if (wrong !== undefined) {
    throw new Error(
      `${wrong.setting} is not a NATS peer URL: @cairn/transport-nats reaches members by subject, e.g. ${wrong.member}=nats://${wrong.member} ` +
        '(choose @cairn/transport-tcp under plugins.transport for http:// peer URLs)',
    );
  }
  return ownPeerUrls(context);
}
