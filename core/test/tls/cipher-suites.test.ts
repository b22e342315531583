import { expect } from 'chai';
import { createSecureContext } from 'node:tls';
import { openSslCipherList } from '../../src/tls/cipher-suites.js';

describe('Go cipher suite names (--cipher-suites)', () => {
  it('none given: Node keeps its defaults', () => {
    expect(openSslCipherList([])).to.equal(undefined);
  });

  it('maps IANA names to OpenSSL names, in order, once each', () => {
    const list = openSslCipherList([
      'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
      'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
      'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305',
      'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256',
    ]);
    expect(list).to.equal('ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305');
    // OpenSSL knows every name it produced.
    expect(() => createSecureContext({ ciphers: list })).not.to.throw();
  });

  it('an unknown name is a clear error naming it and the flag', () => {
    expect(() => openSslCipherList(['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'TLS_MADE_UP'])).to.throw(/--cipher-suites: unknown cipher suite "TLS_MADE_UP"/);
    // OpenSSL's own spelling is not etcd's flag value either.
    expect(() => openSslCipherList(['ECDHE-RSA-AES128-GCM-SHA256'])).to.throw(/unknown cipher suite/);
  });
});
