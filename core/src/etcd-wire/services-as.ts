import type { CallerCredentials } from '../api/auth-types.js';
import type { CairnServices } from '../api/services.js';

/**
 * The services as the caller presenting `credentials` may use them: the member's own when it has
 * no auth, else the view `authorize` gives (rejecting with etcd's token errors). Each frontend's
 * streams call it once, when they open; the unary table calls it per call.
 */
export function servicesAs(services: CairnServices, credentials: CallerCredentials): Promise<CairnServices> {
  return services.authorize === undefined ? Promise.resolve(services) : services.authorize(credentials);
}
