/** Randomness, injected and seeded so that every simulated run replays exactly. */
export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max), uniformly. */
  int(min: number, max: number): number;
}

export const RANDOM = Symbol.for('cairn.port.Random');
