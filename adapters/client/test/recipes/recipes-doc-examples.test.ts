/**
 * RECIPES.md's examples, run as written: each ```ts block is extracted, pointed at a test member
 * instead of 127.0.0.1:2379, written next to this file as an ES module and imported. The blocks
 * carry no type annotations, so they run as JavaScript unchanged; their own asserts check the
 * outcomes the document promises.
 */
import { expect } from 'chai';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CairnMemberFixture } from '../cairn-member-fixture.js';

const HERE = dirname(fileURLToPath(import.meta.url));
/** From dist/test/recipes back to the package's RECIPES.md. */
const RECIPES_MD = resolve(HERE, '..', '..', '..', 'RECIPES.md');

interface Example {
  readonly section: string;
  readonly code: string;
}

function examplesOf(markdown: string): Example[] {
  const examples: Example[] = [];
  let section = '';
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('## ')) section = line.slice(3);
    if (line.trim() !== '```ts') continue;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i]!.trim() !== '```'; i++) body.push(lines[i]!);
    examples.push({ section, code: body.join('\n') });
  }
  return examples;
}

describe('recipes: RECIPES.md examples run as written', function () {
  this.timeout(60_000);
  let cairn: CairnMemberFixture;
  const examples = examplesOf(readFileSync(RECIPES_MD, 'utf8'));

  before(async () => {
    cairn = await CairnMemberFixture.start();
  });
  after(() => cairn.close());

  it('documents an example for every recipe', () => {
    expect(examples.map((e) => e.section)).to.deep.equal([
      'Mutex',
      'RwMutex',
      'Semaphore',
      'Election',
      'Queue',
      'PriorityQueue',
      'Barrier',
      'DoubleBarrier',
      'STM (software transactional memory)',
      'ServiceRegistry',
      'ConfigMap',
    ]);
  });

  for (const [index, example] of examples.entries()) {
    it(`runs the ${example.section} example`, async () => {
      expect(example.code).to.include("'127.0.0.1:2379'");
      const code = example.code.replaceAll("'127.0.0.1:2379'", `'${cairn.endpoint}'`);
      const dir = join(HERE, 'doc-examples');
      mkdirSync(dir, { recursive: true });
      const file = join(dir, `example-${index}-${Date.now()}.mjs`);
      writeFileSync(file, code);
      const log = console.log;
      console.log = () => undefined; // the examples print what they hold
      try {
        await import(pathToFileURL(file).href);
      } finally {
        console.log = log;
        rmSync(file, { force: true });
      }
    });
  }
});
