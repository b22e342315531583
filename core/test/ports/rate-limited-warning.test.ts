import { expect } from 'chai';
import type { LogFields, Logger } from '../../src/ports/logger.js';
import { RateLimitedWarning } from '../../src/ports/rate-limited-warning.js';

function recordingLogger(lines: LogFields[]): Logger {
  const logger: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: (fields) => void lines.push(fields),
    error: () => undefined,
    child: () => logger,
  };
  return logger;
}

describe('RateLimitedWarning', () => {
  it('logs the first warning of each interval and counts the rest into the next line', () => {
    const lines: LogFields[] = [];
    let now = 0;
    const warning = new RateLimitedWarning(recordingLogger(lines), 'refused', 1000, () => now);
    for (let i = 0; i < 50; i++) warning.warn({ remote: `r${i}` });
    expect(lines).to.deep.equal([{ remote: 'r0' }]);
    now = 1000;
    warning.warn({ remote: 'later' });
    expect(lines).to.deep.equal([{ remote: 'r0' }, { remote: 'later', suppressed: 49 }]);
  });
});
