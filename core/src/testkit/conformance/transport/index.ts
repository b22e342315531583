export { transportConformance } from './transport-conformance.js';
export type { TransportFixture, TransportFixtureFactory, RawPeerWire, TransportConformanceOptions } from './transport-fixture.js';
export { LazySnapshot } from './lazy-snapshot.js';
export { RecordingHandler, waitUntil, repeatUntil, type SnapshotReceiver } from './recording-handler.js';
export { message, richMessages, largeAppend, comparable } from './sample-messages.js';
