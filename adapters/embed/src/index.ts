export * from './start-embedded.js';
export * from './embedded-member.js';
export * from './in-process-channel.js';
