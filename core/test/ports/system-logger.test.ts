import { expect } from 'chai';
import { SystemLogger } from '../../src/ports/system-logger.js';

/** The keys of a JSON object's top level as written, duplicates included (JSON.parse would hide them). */
function writtenKeys(line: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
    else if (c === '"') {
      let end = i + 1;
      while (line[end] !== '"') end += line[end] === '\\' ? 2 : 1;
      let next = end + 1;
      while (line[next] === ' ') next++;
      if (depth === 1 && line[next] === ':') keys.push(JSON.parse(line.slice(i, end + 1)) as string);
      i = end;
    }
  }
  return keys;
}

function capture(level: 'debug' | 'info' = 'info'): { logger: SystemLogger; lines: string[] } {
  const lines: string[] = [];
  return {
    logger: new SystemLogger(level, {
      write: (line: string) => {
        lines.push(line);
      },
    }),
    lines,
  };
}

const once = (keys: string[]): void => {
  expect(keys, keys.join(',')).to.have.length(new Set(keys).size);
};

describe('SystemLogger', () => {
  it('writes a key once when a log call repeats a binding, and the call wins', () => {
    const { logger, lines } = capture();
    logger.child({ name: 'n1' }).child({ member: 'aaaa' }).info({ change: 'AddVoter', member: 'bbbb' }, 'applied membership change');
    expect(lines).to.have.length(1);
    once(writtenKeys(lines[0]!));
    expect(JSON.parse(lines[0]!)).to.include({ name: 'n1', member: 'bbbb', change: 'AddVoter', msg: 'applied membership change' });
  });

  it('writes a key once when nested children bind it, and the innermost wins', () => {
    const { logger, lines } = capture();
    logger.child({ name: 'outer' }).child({ name: 'inner', plugin: 'p' }).warn({ name: 'call' }, 'x');
    logger.child({ name: 'outer' }).child({ name: 'inner' }).error({}, 'y');
    once(writtenKeys(lines[0]!));
    once(writtenKeys(lines[1]!));
    expect(JSON.parse(lines[0]!)).to.include({ name: 'call', plugin: 'p', level: 40 });
    expect(JSON.parse(lines[1]!)).to.include({ name: 'inner', level: 50 });
  });

  it('keeps the level of its root in children', () => {
    const info = capture('info');
    info.logger.child({ name: 'n1' }).debug({ a: 1 }, 'hidden');
    expect(info.lines).to.deep.equal([]);
    const debug = capture('debug');
    debug.logger.child({ name: 'n1' }).debug({ a: 1 }, 'shown');
    expect(JSON.parse(debug.lines[0]!)).to.include({ name: 'n1', a: 1, msg: 'shown' });
  });

  it('reads written keys as the line has them', () => {
    expect(writtenKeys('{"a":1,"b":{"a":2},"c":"x\\":","a":[{"d":1}]}')).to.deep.equal(['a', 'b', 'c', 'a']);
  });
});
