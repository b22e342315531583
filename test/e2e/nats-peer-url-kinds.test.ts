import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeLoopbackPort } from '@cairn/core/testkit';
import { CAIRN_BIN } from '../compat/processes.js';

interface Exit {
  readonly code: number | null;
  readonly stderr: string;
}

/** Runs `cairn` with `args` until it exits by itself; killed by its PID if it is still running after 20 s. */
function cairnUntilExit(args: readonly string[], cwd: string): Promise<Exit> {
  const child = spawn(process.execPath, [CAIRN_BIN, ...args], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  const stderr: string[] = [];
  child.stderr.on('data', (b: Buffer) => stderr.push(b.toString()));
  const timer = setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL');
  }, 20_000);
  return new Promise((done) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      done({ code, stderr: stderr.join('') });
    }),
  );
}

/**
 * A member given the other transport's peer URLs (a NATS member with http:// ones, a TCP member
 * with nats:// ones) is a config error: real `cairn` processes exit with code 2 and one line that
 * names the setting, the URL and the transport that would serve it, before they start anything
 * (no nats-server is needed: the transport never connects).
 */
describe('peer URLs of the other transport’s kind (real cairn processes)', function () {
  this.timeout(60_000);
  let dir = '';

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cairn-peer-url-kinds-'));
    await writeFile(join(dir, 'nats.yaml'), JSON.stringify({ plugins: { transport: { use: '@cairn/transport-nats', servers: ['nats://127.0.0.1:1'] } } }));
    await writeFile(join(dir, 'tcp.yaml'), JSON.stringify({ plugins: { transport: { use: '@cairn/transport-tcp' } } }));
  });
  after(async () => {
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  const run = async (name: string, transport: 'nats' | 'tcp', flags: readonly string[]): Promise<Exit> => {
    const client = `http://127.0.0.1:${await freeLoopbackPort()}`;
    const peer = `http://127.0.0.1:${await freeLoopbackPort()}`;
    const urls = ['--listen-client-urls', client, '--advertise-client-urls', client, '--listen-peer-urls', peer];
    return cairnUntilExit(['--config-file', `${transport}.yaml`, '--name', name, '--data-dir', join(dir, name), ...urls, ...flags], dir);
  };

  /** The one line on stderr (the process logs nothing else there). */
  const oneLine = (exit: Exit): string => {
    const lines = exit.stderr.trimEnd().split('\n');
    expect(lines, exit.stderr).to.have.length(1);
    return lines[0]!;
  };

  it('a NATS member with an http:// peer URL in --initial-cluster', async () => {
    const exit = await run('n1', 'nats', ['--initial-cluster', 'n1=nats://n1,n2=http://127.0.0.1:2380']);
    expect(exit.code, exit.stderr).to.equal(2);
    expect(oneLine(exit)).to.equal(
      'cairn: config: plugins.transport: plugin "@cairn/transport-nats": initial-cluster: n2=http://127.0.0.1:2380 is not a NATS peer URL: ' +
        '@cairn/transport-nats reaches members by subject, e.g. n2=nats://n2 (choose @cairn/transport-tcp under plugins.transport for http:// peer URLs)',
    );
  });

  it('a NATS member joining a cluster whose own advertised peer URL is http://', async () => {
    const exit = await run('n4', 'nats', [
      '--initial-cluster',
      'n1=nats://n1',
      '--initial-cluster-state',
      'existing',
      '--initial-advertise-peer-urls',
      'http://127.0.0.1:2380',
    ]);
    expect(exit.code, exit.stderr).to.equal(2);
    expect(oneLine(exit)).to.equal(
      'cairn: config: plugins.transport: plugin "@cairn/transport-nats": initial-advertise-peer-urls: http://127.0.0.1:2380 is not a NATS peer URL: ' +
        '@cairn/transport-nats reaches members by subject, e.g. n4=nats://n4 (choose @cairn/transport-tcp under plugins.transport for http:// peer URLs)',
    );
  });

  it('a TCP member with nats:// peer URLs', async () => {
    const exit = await run('n1', 'tcp', ['--initial-cluster', 'n1=nats://n1,n2=nats://n2']);
    expect(exit.code, exit.stderr).to.equal(2);
    expect(oneLine(exit)).to.equal(
      'cairn: config: plugins.transport: plugin "@cairn/transport-tcp": initial-cluster: n1=nats://n1 is not a TCP peer URL ' +
        '(nats:// peer URLs name subjects of @cairn/transport-nats: choose it under plugins.transport)',
    );
  });
});
