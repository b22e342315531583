import { readFileSync } from 'node:fs';
import { TestCertificates as CertificateMaker, type TestCertificate } from '@cairn/core/testkit';

export interface MemberCertificates {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer;
  /** The same, as files (for the plugin's options). */
  readonly files: { readonly certFile: string; readonly keyFile: string; readonly caFile: string };
}

export interface TestCertificates {
  /** Signed by the cluster CA, valid for 127.0.0.1. */
  readonly member: MemberCertificates;
  /** Valid for 127.0.0.1 but signed by an unrelated CA (it trusts only that CA too). */
  readonly stranger: MemberCertificates;
  /** Removes the temporary directory. */
  remove(): void;
}

function loaded(issued: TestCertificate): MemberCertificates {
  const files = { certFile: issued.certFile, keyFile: issued.keyFile, caFile: issued.caFile };
  return { cert: readFileSync(files.certFile), key: readFileSync(files.keyFile), ca: readFileSync(files.caFile), files };
}

/** A cluster CA with one member certificate, and a stranger from another CA (the testkit's openssl-made certificates, as buffers). */
export function makeTestCertificates(): TestCertificates {
  const maker = new CertificateMaker();
  try {
    return {
      member: loaded(maker.issue(maker.authority('member-ca'), 'member', { hosts: ['127.0.0.1'] })),
      stranger: loaded(maker.issue(maker.authority('stranger-ca'), 'stranger', { hosts: ['127.0.0.1'] })),
      remove: () => maker.remove(),
    };
  } catch (err) {
    maker.remove();
    throw err;
  }
}
