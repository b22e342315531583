// @cairn/transport-nats/testing: real nats-servers for tests (this package's, the system tests', a
// third party's). Tests only: nothing under src/ imports it.
export { NATS_SERVER_BIN, NatsServerProcess, skipWithoutNatsServer } from './nats-server-process.js';
export { NatsServers } from './nats-servers.js';
