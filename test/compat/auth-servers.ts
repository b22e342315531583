/** bcrypt's cheapest cost: the auth suites hash many passwords and test no cost-dependent behaviour. */
export const FAST_BCRYPT = ['--bcrypt-cost', '4'] as const;
