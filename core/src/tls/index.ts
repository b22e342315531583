// TLS for the client and peer ports, from etcd's flags (TlsSettings): shared by every plugin that serves or dials TLS.
export { openSslCipherList } from './cipher-suites.js';
export { PemFiles, type PemMaterial, type PemPaths } from './pem-files.js';
export { clientTlsOptions, requiresClientCertificate, secureContextOptions, serverTlsOptions } from './node-tls-options.js';
export { ensureSelfSignedCertificate, type CertificateFiles } from './self-signed-certificate.js';
export { TlsCredentials, type AutoTlsPlace } from './tls-credentials.js';
export { commonNameOfCertificate, verifiedCommonName } from './certificate-common-name.js';
