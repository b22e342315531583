import { injectable } from 'inversify';
import { randomInt, randomBytes } from 'node:crypto';
import type { Random } from './random.js';

/** Randomness from the operating system, for real members (the simulator injects a seeded one). */
@injectable()
export class SystemRandom implements Random {
  next(): number {
    return randomBytes(6).readUIntBE(0, 6) / 2 ** 48;
  }

  int(min: number, max: number): number {
    if (!(max > min)) throw new RangeError(`empty range [${min}, ${max})`);
    return randomInt(min, max);
  }
}
