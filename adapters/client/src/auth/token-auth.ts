/**
 * The auth token of a client with user/password credentials: fetched once with Authenticate,
 * shared by every call and stream, fetched again after the server calls it invalid.
 */
export class TokenAuth {
  private current: Promise<string> | undefined;

  constructor(private readonly authenticate: () => Promise<string>) {}

  token(): Promise<string> {
    if (this.current === undefined) {
      const fetching = this.authenticate();
      this.current = fetching;
      // A failed Authenticate must not stick: the next call tries again.
      fetching.catch(() => {
        if (this.current === fetching) this.current = undefined;
      });
    }
    return this.current;
  }

  /** The server rejected `token`: the next `token()` authenticates again (once for all callers that saw it). */
  async invalidate(token: string): Promise<void> {
    const current = this.current;
    if (current === undefined) return;
    const held = await current.catch(() => undefined);
    if (held === token && this.current === current) this.current = undefined;
  }
}
