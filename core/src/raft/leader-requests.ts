import type { Clock } from '../ports/clock.js';
import { message } from '../protocol/message.js';
import { MessageType, NO_MEMBER, type MemberId, type Message } from '../protocol/raft-types.js';
import { PendingCalls } from './pending-calls.js';

/**
 * Answers a request on the leader, at once or later (a lease renewal that must first clear a
 * checkpoint, a promotion that must commit); a throw or a rejection becomes a refusal the asker
 * sees as an error.
 */
export type LeaderRequestHandler = (payload: Uint8Array, from: MemberId) => Uint8Array | Promise<Uint8Array>;

/** The leader refused, or no answer came in time: the asker may take the log's way instead. */
export class LeaderRequestError extends Error {}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** context = u8 kind length, kind (UTF-8), payload. */
function encodeRequest(kind: string, payload: Uint8Array): Uint8Array {
  const name = encoder.encode(kind);
  if (name.length > 255) throw new Error(`leader request kind too long: ${kind}`);
  const out = new Uint8Array(1 + name.length + payload.length);
  out[0] = name.length;
  out.set(name, 1);
  out.set(payload, 1 + name.length);
  return out;
}

function decodeRequest(context: Uint8Array): { kind: string; payload: Uint8Array } | undefined {
  if (context.length === 0 || context.length < 1 + context[0]!) return undefined;
  const end = 1 + context[0]!;
  return { kind: decoder.decode(context.subarray(1, end)), payload: context.subarray(end) };
}

/**
 * Requests a member sends its leader outside the log, and their answers (etcd's peer API does
 * this for lease keep-alives: a renewal changes no replicated state, so it need not cost a
 * quorum's fsync). They travel as LeaderRequest/LeaderResponse messages over the Transport,
 * which Raft itself never sees; `index` pairs an answer with its request. Best effort like
 * every message: a lost one ends in the asker's timeout.
 */
export class LeaderRequests {
  private readonly handlers = new Map<string, LeaderRequestHandler>();
  /** Requests asked and not answered yet, by sequence; each knows the leader it was sent to. */
  private readonly pending: PendingCalls<number, Uint8Array, MemberId>;
  private sequence = 0;

  constructor(
    private readonly self: () => MemberId,
    private readonly leader: () => MemberId,
    private readonly term: () => number,
    private readonly send: (m: Message) => void,
    clock: Clock,
  ) {
    this.pending = new PendingCalls(clock);
  }

  /** Serve `kind` while this member leads. */
  serve(kind: string, handler: LeaderRequestHandler): void {
    this.handlers.set(kind, handler);
  }

  /** Ask the current leader; rejects with LeaderRequestError when there is none, it refuses, or `timeoutMs` pass. */
  ask(kind: string, payload: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    const to = this.leader();
    if (to === NO_MEMBER || to === this.self()) return Promise.reject(new LeaderRequestError('no other member leads'));
    const id = ++this.sequence;
    const answer = this.pending.wait(id, to, timeoutMs, () => new LeaderRequestError(`leader ${to} did not answer ${kind} in ${timeoutMs} ms`));
    try {
      this.send(message(MessageType.LeaderRequest, this.self(), to, { term: this.term(), index: id, context: encodeRequest(kind, payload) }));
    } catch (err) {
      // As a throw in a promise's executor would: the call fails with it.
      this.pending.reject(id, err instanceof Error ? err : new Error(String(err)));
    }
    return answer;
  }

  /** True when `m` was one of ours (handled here, never stepped into Raft). */
  receive(m: Message): boolean {
    if (m.type === MessageType.LeaderRequest) {
      this.answer(m);
      return true;
    }
    if (m.type !== MessageType.LeaderResponse) return false;
    const waiter = this.pending.get(m.index);
    if (waiter === undefined || waiter.data !== m.from) return true;
    this.pending.take(m.index);
    if (m.reject) waiter.reject(new LeaderRequestError(decoder.decode(m.context)));
    else waiter.resolve(m.context);
    return true;
  }

  /** Fail every request still waiting (the member stops). */
  failAll(error: Error): void {
    this.pending.rejectAll(() => error);
  }

  private answer(m: Message): void {
    const respond = (reject: boolean, context: Uint8Array): void =>
      this.send(message(MessageType.LeaderResponse, this.self(), m.from, { term: this.term(), index: m.index, reject, context }));
    const request = decodeRequest(m.context);
    const handler = request === undefined ? undefined : this.handlers.get(request.kind);
    if (request === undefined || handler === undefined) {
      respond(true, encoder.encode(`no handler for leader request ${request?.kind ?? '(malformed)'}`));
      return;
    }
    if (this.leader() !== this.self()) {
      respond(true, encoder.encode(`member ${this.self()} is not the leader`));
      return;
    }
    const refuse = (err: unknown): void => respond(true, encoder.encode(err instanceof Error ? err.message : String(err)));
    let answer: Uint8Array | Promise<Uint8Array>;
    try {
      answer = handler(request.payload, m.from);
    } catch (err) {
      refuse(err);
      return;
    }
    if (answer instanceof Uint8Array) respond(false, answer);
    else answer.then((context) => respond(false, context), refuse);
  }
}
