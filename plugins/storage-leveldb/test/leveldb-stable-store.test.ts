import { expect } from 'chai';
import type { StableState } from '@cairn/core';
import { createLevelDbStorage } from '../src/index.js';
import { TemporaryDirectories } from '@cairn/core/testkit';

const state = (term: number): StableState => ({
  hardState: { term, vote: term % 2 === 0 ? '000000000000000a' : '', commit: term * 10 },
  confState: { voters: ['000000000000000a', '000000000000000b'], learners: ['000000000000000c'] },
  clusterId: 'c0ffee0000000001',
  memberId: '000000000000000a',
});

describe('LevelDbStableStore', () => {
  const temporary = new TemporaryDirectories();
  afterEach(() => temporary.removeAll());

  it('is empty when fresh, then holds the last save across reopens', async () => {
    const directory = await temporary.make('stable');
    let store = createLevelDbStorage(directory).stableStore;
    await store.open();
    expect(await store.load()).to.equal(undefined);
    for (let term = 1; term <= 5; term++) await store.save(state(term));
    await store.close();
    store = createLevelDbStorage(directory).stableStore;
    await store.open();
    expect(await store.load()).to.deep.equal(state(5));
    await store.close();
  });

  it('hands out copies: changing what load() returned or what was saved changes nothing stored', async () => {
    const directory = await temporary.make('stable');
    const store = createLevelDbStorage(directory).stableStore;
    await store.open();
    const saved = { ...state(2), confState: { voters: ['a'], learners: [] as string[] } };
    await store.save(saved);
    (saved.confState.voters as string[]).push('b');
    const loaded = await store.load();
    expect(loaded!.confState.voters).to.deep.equal(['a']);
    await store.close();
  });

  it('is closed idempotently and refuses use while closed', async () => {
    const directory = await temporary.make('stable');
    const store = createLevelDbStorage(directory).stableStore;
    await store.open();
    await store.close();
    await store.close();
    let error: unknown;
    await store.save(state(1)).catch((err: unknown) => {
      error = err;
    });
    expect(String(error)).to.match(/not open/);
  });
});
