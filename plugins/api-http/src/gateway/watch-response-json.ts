import type { WireEvent, WireWatchResponse } from '@cairn/core';
import { encodeJsonMessage } from './json-response-encoder.js';
import type { EtcdProtoSchemas, MessageSchema } from './proto-schema.js';

/**
 * WatchResponse as JSON, with each event's JSON written once however many watchers it goes to
 * (the core shares one wire event per stored event): the response's own fields, then its events,
 * which are its last field (number 11), so the text is what the generic encoder would write.
 */
export class WatchResponseJson {
  private readonly response: MessageSchema;
  private readonly event: MessageSchema;
  private readonly events = new WeakMap<WireEvent, string>();

  constructor(schemas: EtcdProtoSchemas) {
    this.response = schemas.messageNamed('etcdserverpb.WatchResponse');
    this.event = schemas.messageNamed('mvccpb.Event');
  }

  eventJson(event: WireEvent): string {
    let json = this.events.get(event);
    if (json === undefined) {
      json = encodeJsonMessage(this.event, event);
      this.events.set(event, json);
    }
    return json;
  }

  encode(response: WireWatchResponse): string {
    const head = encodeJsonMessage(this.response, { ...response, events: [] });
    if (response.events.length === 0) return head;
    const events = `"events":[${response.events.map((e) => this.eventJson(e)).join(',')}]`;
    return head === '{}' ? `{${events}}` : `${head.slice(0, -1)},${events}}`;
  }
}
