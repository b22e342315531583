/** bcrypt's cheapest cost: the auth suites hash many passwords and test no cost-dependent behaviour. */
export const FAST_BCRYPT = ['--bcrypt-cost', '4'] as const;

/**
 * etcdctl steps that make `root` (password root-pw, the root role) and `alice` (alice-pw, role
 * `app`: readwrite on the prefix app/), then enable auth.
 */
export const ROOT_AND_ALICE: readonly (readonly string[])[] = [
  ['user', 'add', 'root', '--new-user-password=root-pw'],
  ['user', 'grant-role', 'root', 'root'],
  ['user', 'add', 'alice', '--new-user-password=alice-pw'],
  ['role', 'add', 'app'],
  ['role', 'grant-permission', 'app', 'readwrite', 'app/', '--prefix'],
  ['user', 'grant-role', 'alice', 'app'],
  ['auth', 'enable'],
];
