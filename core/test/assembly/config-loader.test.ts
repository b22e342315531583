import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/assembly/config-error.js';
import { clientKeepaliveOf, leaseCheckpointIntervalMs, loadConfig } from '../../src/assembly/config-loader.js';
import { FLAGS, helpText } from '../../src/assembly/flags.js';

describe('config loading', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cairn-config-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const failure = (argv: string[]): ConfigError => {
    try {
      loadConfig(argv, dir);
    } catch (err) {
      expect(err).to.be.instanceOf(ConfigError);
      return err as ConfigError;
    }
    throw new Error('expected a ConfigError');
  };

  it("with nothing given, is etcd's single-member default", () => {
    const { config, baseDir } = loadConfig([], dir);
    expect(config.name).to.equal('default');
    expect(config['data-dir']).to.equal('default.cairn');
    expect(config['listen-client-urls']).to.equal('http://localhost:2379');
    expect(config['initial-cluster']).to.equal('default=http://localhost:2380');
    expect(config['initial-cluster-state']).to.equal('new');
    expect(config['heartbeat-interval']).to.equal(100);
    expect(config['election-timeout']).to.equal(1000);
    expect(config['max-request-bytes']).to.equal(1572864);
    expect(config['max-txn-ops']).to.equal(128);
    expect(config['snapshot-catchup-entries']).to.equal(5000);
    expect(baseDir).to.equal(dir);
  });

  it('reads YAML and JSON files, and flags override their keys', () => {
    writeFileSync(join(dir, 'c.yaml'), 'name: n1\nheartbeat-interval: 50\nelection-timeout: 500\nplugins:\n  storage: { use: memory }\n');
    writeFileSync(join(dir, 'c.json'), JSON.stringify({ name: 'n2', 'snapshot-count': 5 }));
    const yaml = loadConfig(['--config-file', 'c.yaml', '--heartbeat-interval', '20', '--snapshot-catchup-entries', '50'], dir);
    expect(yaml.config['snapshot-catchup-entries']).to.equal(50);
    expect(yaml.config.name).to.equal('n1');
    expect(yaml.config['heartbeat-interval']).to.equal(20);
    expect(yaml.config['data-dir']).to.equal('n1.cairn');
    expect(yaml.config.plugins.storage).to.deep.equal({ use: 'memory' });
    const json = loadConfig([`--config-file=${join(dir, 'c.json')}`], '/');
    expect(json.config['snapshot-count']).to.equal(5);
    expect(json.baseDir).to.equal(dir);
  });

  it('refuses bad input with one message naming the key, and exit code 2', () => {
    const cases: [string[], RegExp][] = [
      [['--heartbeat-interval', 'fast'], /heartbeat-interval/],
      [['--election-timeout', '200'], /election-timeout must be at least 5 times heartbeat-interval/],
      [['--initial-cluster-state', 'maybe'], /initial-cluster-state/],
      [['--snapshot-catchup-entries', '0'], /snapshot-catchup-entries/],
      [['--no-such-flag'], /no-such-flag/],
      [['--name', 'a', '--initial-cluster', 'b=http://127.0.0.1:2380'], /no member named "a"/],
      [['--initial-cluster', 'default=not a url'], /initial-cluster/],
      [['--config-file', 'missing.yaml'], /config-file: cannot read .*missing\.yaml: ENOENT/],
    ];
    for (const [argv, message] of cases) {
      const err = failure(argv);
      expect(err.message, argv.join(' ')).to.match(message);
      expect(err.exitCode).to.equal(2);
    }
    writeFileSync(join(dir, 'bad.yaml'), 'name: [unclosed\n');
    expect(failure(['--config-file', 'bad.yaml']).message).to.match(/not valid YAML or JSON/);
    writeFileSync(join(dir, 'typo.yaml'), 'heartbeat-intervall: 100\n');
    expect(failure(['--config-file', 'typo.yaml']).message).to.match(/heartbeat-intervall/);
    writeFileSync(join(dir, 'list.yaml'), '- 1\n- 2\n');
    expect(failure(['--config-file', 'list.yaml']).message).to.match(/must hold a mapping/);
  });

  it("takes etcd's client connection flags: --max-concurrent-streams and the gRPC keepalive durations (0 interval: no pings)", () => {
    const defaults = loadConfig([], dir).config;
    expect(defaults['max-concurrent-streams']).to.equal(4294967295);
    expect(clientKeepaliveOf(defaults)).to.deep.equal({ intervalMs: 2 * 60 * 60 * 1000, timeoutMs: 20_000, minTimeMs: 5_000 });
    const set = loadConfig(
      ['--max-concurrent-streams', '100', '--grpc-keepalive-interval', '30s', '--grpc-keepalive-timeout', '5s', '--grpc-keepalive-min-time', '1s'],
      dir,
    ).config;
    expect(set['max-concurrent-streams']).to.equal(100);
    expect(clientKeepaliveOf(set)).to.deep.equal({ intervalMs: 30_000, timeoutMs: 5_000, minTimeMs: 1_000 });
    const off = loadConfig(['--grpc-keepalive-interval', '0s', '--grpc-keepalive-timeout', '0', '--grpc-keepalive-min-time', '0s'], dir).config;
    expect(clientKeepaliveOf(off), "a 0 timeout keeps grpc-go's 20 s").to.deep.equal({ intervalMs: 0, timeoutMs: 20_000, minTimeMs: 0 });
    for (const [flag, bad] of [
      ['--grpc-keepalive-interval', 'often'],
      ['--grpc-keepalive-min-time', '5'],
      ['--grpc-keepalive-timeout', '-1s'],
      ['--max-concurrent-streams', '0'],
    ] as const) {
      const err = failure([flag, bad]);
      expect(err.message).to.include(flag.slice(2));
      expect(err.exitCode).to.equal(2);
    }
  });

  it("takes etcd's lease checkpoint flags: on by default here, every 5 s; Go durations; off with =false", () => {
    const defaults = loadConfig([], dir).config;
    expect(defaults['experimental-enable-lease-checkpoint']).to.equal(true);
    expect(leaseCheckpointIntervalMs(defaults)).to.equal(5_000);
    const set = loadConfig(
      ['--experimental-enable-lease-checkpoint=false', '--experimental-lease-checkpoint-interval', '1m30s', '--experimental-enable-lease-checkpoint-persist'],
      dir,
    ).config;
    expect(set['experimental-enable-lease-checkpoint']).to.equal(false);
    expect(leaseCheckpointIntervalMs(set)).to.equal(90_000);
    for (const bad of ['soon', '0s']) {
      const err = failure(['--experimental-lease-checkpoint-interval', bad]);
      expect(err.message).to.match(/experimental-lease-checkpoint-interval/);
      expect(err.exitCode).to.equal(2);
    }
  });

  it('--help lists every flag', () => {
    const text = helpText('0.0.0');
    for (const f of FLAGS) expect(text).to.contain(`--${f.name}`);
  });
});
