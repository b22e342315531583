import { connect } from 'node:net';
import type { RawPeerWire } from '@cairn/core/testkit';
import { parsePeerAddress } from '../src/peer-address.js';

/** Writes raw bytes to a TCP listener and waits for it to hang up. */
export const tcpRawWire: RawPeerWire = {
  sendGarbage(address, bytes, timeoutMs) {
    const { host, port } = parsePeerAddress(address);
    return new Promise<void>((resolve, reject) => {
      const socket = connect({ host, port }, () => socket.write(bytes));
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`${address} kept a garbage connection open for ${timeoutMs} ms`));
      }, timeoutMs);
      socket.on('data', () => undefined);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  },
};
