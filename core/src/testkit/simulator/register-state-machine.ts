import type { StateMachine, StateMachineSnapshot } from '../../raft/state-machine.js';
import type { SnapshotMeta } from '../../protocol/raft-types.js';
import type { RegisterOutput } from '../linearizability/register-model.js';

/** A command the register applies (reads are served locally after a ReadIndex barrier). */
export type RegisterCommand =
  | { readonly op: 'write'; readonly key: string; readonly value: string }
  | { readonly op: 'cas'; readonly key: string; readonly expected: string | null; readonly value: string };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeRegisterCommand(command: RegisterCommand): Uint8Array {
  return encoder.encode(JSON.stringify(command));
}

export function decodeRegisterCommand(payload: Uint8Array): RegisterCommand {
  return JSON.parse(decoder.decode(payload)) as RegisterCommand;
}

/** Observes every apply (index and what was applied), for the state machine safety check. */
export type ApplyObserver = (index: number, applied: string) => void;

interface RegisterData {
  applied: number;
  values: Map<string, string>;
}

/**
 * A few named registers, as a StateMachine. Applied effects are durable only after flush(), like
 * a real backend: `recover()` after a crash returns a register holding what was flushed, and the
 * driver replays the rest from the log.
 */
export class RegisterStateMachine implements StateMachine {
  private data: RegisterData;
  private durable: RegisterData;
  applyCalls = 0;

  constructor(
    private readonly observer?: ApplyObserver,
    initial?: RegisterData,
  ) {
    this.durable = initial ?? { applied: 0, values: new Map() };
    this.data = { applied: this.durable.applied, values: new Map(this.durable.values) };
  }

  /** A fresh register holding only what was flushed (the state after a crash). */
  recover(observer?: ApplyObserver): RegisterStateMachine {
    return new RegisterStateMachine(observer ?? this.observer, this.durable);
  }

  /** The current value of `key` (null when absent). */
  get(key: string): string | null {
    return this.data.values.get(key) ?? null;
  }

  async apply(index: number, payload: Uint8Array): Promise<RegisterOutput> {
    this.checkOrder(index);
    this.applyCalls++;
    const command = decodeRegisterCommand(payload);
    this.observer?.(index, decoder.decode(payload));
    this.data.applied = index;
    if (command.op === 'write') {
      this.data.values.set(command.key, command.value);
      return { kind: 'write' };
    }
    const ok = (this.data.values.get(command.key) ?? null) === command.expected;
    if (ok) this.data.values.set(command.key, command.value);
    return { kind: 'cas', ok };
  }

  async skip(index: number): Promise<void> {
    this.checkOrder(index);
    this.observer?.(index, '');
    this.data.applied = index;
  }

  async appliedIndex(): Promise<number | undefined> {
    return this.data.applied;
  }

  async flush(): Promise<void> {
    this.durable = { applied: this.data.applied, values: new Map(this.data.values) };
  }

  snapshot(): StateMachineSnapshot {
    // Pinned now, with its index: applies made while the stream is read do not show in it.
    const index = this.data.applied;
    const bytes = encoder.encode(JSON.stringify({ applied: index, values: [...this.data.values] }));
    return {
      index,
      data: (async function* () {
        yield bytes.subarray(0, bytes.length >> 1);
        yield bytes.subarray(bytes.length >> 1);
      })(),
      release: () => {
        /* nothing pinned but the bytes */
      },
    };
  }

  async restore(meta: SnapshotMeta, data: AsyncIterable<Uint8Array>): Promise<void> {
    const parts: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of data) {
      parts.push(chunk);
      size += chunk.length;
    }
    const bytes = new Uint8Array(size);
    let at = 0;
    for (const p of parts) {
      bytes.set(p, at);
      at += p.length;
    }
    const parsed = JSON.parse(decoder.decode(bytes)) as { applied: number; values: [string, string][] };
    if (parsed.applied !== meta.index) {
      throw new Error(`snapshot data is at index ${parsed.applied}, its metadata says ${meta.index}`);
    }
    this.data = { applied: meta.index, values: new Map(parsed.values) };
    // A restore replaces the store as a whole, durably (as a backend swap would).
    await this.flush();
  }

  private checkOrder(index: number): void {
    if (index !== this.data.applied + 1) {
      throw new Error(`apply out of order: index ${index} after ${this.data.applied}`);
    }
  }
}
