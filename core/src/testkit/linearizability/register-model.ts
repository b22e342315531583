/** Operations on one key of a register store; `null` means the key is absent. */
export type RegisterInput =
  | { readonly kind: 'read' }
  | { readonly kind: 'write'; readonly value: string }
  | { readonly kind: 'cas'; readonly expected: string | null; readonly value: string };

export type RegisterOutput =
  { readonly kind: 'read'; readonly value: string | null } | { readonly kind: 'write' } | { readonly kind: 'cas'; readonly ok: boolean };

export type RegisterState = string | null;

/**
 * The sequential specification: from `state`, can `input` return `output` (undefined = the answer
 * never arrived, so any answer fits)? Returns the next state, or undefined when it cannot.
 */
export function stepRegister(state: RegisterState, input: RegisterInput, output: RegisterOutput | undefined): { readonly state: RegisterState } | undefined {
  switch (input.kind) {
    case 'read':
      if (output !== undefined && (output.kind !== 'read' || output.value !== state)) return undefined;
      return { state };
    case 'write':
      return { state: input.value };
    case 'cas': {
      const matches = state === input.expected;
      if (output !== undefined && (output.kind !== 'cas' || output.ok !== matches)) return undefined;
      return { state: matches ? input.value : state };
    }
  }
}

export function describeRegisterOp(input: RegisterInput, output: RegisterOutput | undefined): string {
  const out = output === undefined ? '?' : output.kind === 'read' ? JSON.stringify(output.value) : output.kind === 'cas' ? String(output.ok) : 'ok';
  switch (input.kind) {
    case 'read':
      return `read() -> ${out}`;
    case 'write':
      return `write(${JSON.stringify(input.value)}) -> ${out}`;
    case 'cas':
      return `cas(${JSON.stringify(input.expected)}, ${JSON.stringify(input.value)}) -> ${out}`;
  }
}
