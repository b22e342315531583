import type { Bind, BindingConstraints, Newable, ServiceIdentifier } from 'inversify';

/**
 * The bindings of one config entry of a plugin. The config may choose one plugin in several
 * entries (the log in one directory and the rest in another; two sets of gRPC listeners), and
 * their modules then share the member's container: each entry binds its classes under tokens of
 * its own, and its values and shared objects for those classes alone, so no entry sees another's.
 */
export class PluginEntryBindings {
  private readonly own = new Set<ServiceIdentifier>();
  private readonly forOwn = (parent: BindingConstraints): boolean => this.own.has(parent.serviceIdentifier);

  /** `label` names the entry in the tokens' descriptions (say, its directory). */
  constructor(
    private readonly bind: Bind,
    private readonly label: string,
  ) {}

  /** `token` (a port, or a multi-bound contribution) resolves to this entry's one `implementation`. */
  port<T>(token: ServiceIdentifier<T>, implementation: Newable<T>): void {
    const own = Symbol(`${implementation.name} (${this.label})`);
    this.own.add(own);
    this.bind(own).to(implementation).inSingletonScope();
    this.bind(token).toService(own);
  }

  /** A value that only this entry's classes receive (and whatever they inject, at any depth). */
  value<T>(token: ServiceIdentifier<T>, value: T): void {
    this.bind(token).toConstantValue(value).whenAnyAncestor(this.forOwn);
  }

  /** One instance of `implementation` that this entry's classes share, under `token`. */
  shared<T>(implementation: Newable<T>, token: ServiceIdentifier<T> = implementation): void {
    this.bind(token).to(implementation).inSingletonScope().whenAnyAncestor(this.forOwn);
  }
}
