import { expect } from 'chai';
import { HpackDecoder, type HeaderField } from '../../src/authority/hpack-decoder.js';
import { encodeHeaderBlock } from '../../src/authority/hpack-encoder.js';
import { HpackError } from '../../src/authority/hpack-error.js';
import { EOS, HUFFMAN_CODES, huffmanDecode } from '../../src/authority/huffman-code.js';

/** Hex as RFC 7541 Appendix C prints it (groups of four digits). */
const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');
const pairs = (fields: readonly HeaderField[]): string[][] => fields.map((f) => [f.name, f.value]);
const tableOf = (decoder: HpackDecoder): string[][] => {
  const entries: string[][] = [];
  for (let i = 0; i < decoder.dynamicTable.length; i++) entries.push([...decoder.dynamicTable.get(i)!]);
  return entries;
};

/** A Huffman encoder for the tests only (the repair never Huffman-codes what it writes). */
function huffmanEncode(octets: Buffer): Buffer {
  let bits = 0n;
  let count = 0;
  for (const octet of octets) {
    const { code, length } = HUFFMAN_CODES[octet]!;
    bits = (bits << BigInt(length)) | BigInt(code);
    count += length;
  }
  const pad = (8 - (count % 8)) % 8;
  bits = (bits << BigInt(pad)) | ((1n << BigInt(pad)) - 1n);
  const out = Buffer.alloc((count + pad) / 8);
  for (let i = out.length - 1; i >= 0; i--) {
    out[i] = Number(bits & 0xffn);
    bits >>= 8n;
  }
  return out;
}

describe('authority repair: HPACK (RFC 7541)', () => {
  describe('the Huffman code (Appendix B)', () => {
    it('assigns the codes of Appendix B canonically from their lengths', () => {
      // A sample of Appendix B's rows, one or more per code length, including the longest ones.
      // prettier-ignore
      const rows: [symbol: number, code: number, length: number][] = [
        [48, 0x0, 5], [116, 0x9, 5], [32, 0x14, 6], [95, 0x22, 6], [58, 0x5c, 7], [122, 0x7b, 7], [38, 0xf8, 8], [90, 0xfd, 8],
        [33, 0x3f8, 10], [63, 0x3fc, 10], [39, 0x7fa, 11], [124, 0x7fc, 11], [35, 0xffa, 12], [62, 0xffb, 12],
        [0, 0x1ff8, 13], [126, 0x1ffd, 13], [94, 0x3ffc, 14], [125, 0x3ffd, 14], [60, 0x7ffc, 15], [123, 0x7ffe, 15],
        [92, 0x7fff0, 19], [208, 0x7fff2, 19], [128, 0xfffe6, 20], [226, 0xfffed, 20], [153, 0x1fffdc, 21], [230, 0x1fffe8, 21],
        [129, 0x3fffd2, 22], [233, 0x3fffeb, 22], [1, 0x7fffd8, 23], [239, 0x7ffff4, 23], [9, 0xffffea, 24], [237, 0xfffff5, 24],
        [199, 0x1ffffec, 25], [235, 0x1ffffef, 25], [192, 0x3ffffe0, 26], [255, 0x3ffffee, 26], [203, 0x7ffffde, 27], [254, 0x7fffff0, 27],
        [2, 0xfffffe2, 28], [31, 0xffffffb, 28], [127, 0xffffffc, 28], [220, 0xffffffd, 28], [249, 0xffffffe, 28],
        [10, 0x3ffffffc, 30], [13, 0x3ffffffd, 30], [22, 0x3ffffffe, 30], [EOS, 0x3fffffff, 30],
      ];
      for (const [symbol, code, length] of rows) expect(HUFFMAN_CODES[symbol], `symbol ${symbol}`).to.deep.equal({ code, length });
    });

    it('is a complete prefix code: the lengths fill the code space exactly (Kraft sum 1)', () => {
      const sum = HUFFMAN_CODES.reduce((total, { length }) => total + 2 ** (30 - length), 0);
      expect(sum).to.equal(2 ** 30);
      expect(HUFFMAN_CODES).to.have.length(257);
    });

    it('decodes every octet, alone and all 256 in one string', () => {
      for (let octet = 0; octet < 256; octet++) {
        expect(huffmanDecode(huffmanEncode(Buffer.from([octet]))), `octet ${octet}`).to.equal(String.fromCharCode(octet));
      }
      const all = Buffer.from(Array.from({ length: 256 }, (_, i) => 255 - i));
      expect(Buffer.from(huffmanDecode(huffmanEncode(all)), 'latin1')).to.deep.equal(all);
    });

    it('refuses EOS inside a string and padding that is not a short run of one-bits', () => {
      // '0' is 00000; then EOS's 30 one-bits and padding.
      expect(() => huffmanDecode(Buffer.from([0x07, 0xff, 0xff, 0xff, 0xff]))).to.throw(HpackError, /EOS/);
      // 'a' (00011) padded with zeros instead of ones.
      expect(() => huffmanDecode(Buffer.from([0x18]))).to.throw(HpackError, /padding/);
      // 'a' then a whole octet of one-bits: padding longer than 7 bits.
      expect(() => huffmanDecode(Buffer.from([0x1f, 0xff]))).to.throw(HpackError, /padding/);
      expect(huffmanDecode(Buffer.from([0x1f]))).to.equal('a');
    });
  });

  describe('Appendix C examples', () => {
    it('C.2.1–C.2.4: one representation each', () => {
      const d1 = new HpackDecoder();
      expect(pairs(d1.decode(hex('400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572')))).to.deep.equal([['custom-key', 'custom-header']]);
      expect(tableOf(d1)).to.deep.equal([['custom-key', 'custom-header']]);
      expect(d1.dynamicTable.size).to.equal(55);

      const d2 = new HpackDecoder();
      expect(pairs(d2.decode(hex('040c 2f73 616d 706c 652f 7061 7468')))).to.deep.equal([[':path', '/sample/path']]);
      expect(d2.dynamicTable.length).to.equal(0);

      const d3 = new HpackDecoder();
      expect(d3.decode(hex('1008 7061 7373 776f 7264 0673 6563 7265 74'))).to.deep.equal([{ name: 'password', value: 'secret', neverIndexed: true }]);
      expect(d3.dynamicTable.length).to.equal(0);

      const d4 = new HpackDecoder();
      expect(pairs(d4.decode(hex('82')))).to.deep.equal([[':method', 'GET']]);
      expect(d4.dynamicTable.length).to.equal(0);
    });

    const requests = [
      [
        [':method', 'GET'],
        [':scheme', 'http'],
        [':path', '/'],
        [':authority', 'www.example.com'],
      ],
      [
        [':method', 'GET'],
        [':scheme', 'http'],
        [':path', '/'],
        [':authority', 'www.example.com'],
        ['cache-control', 'no-cache'],
      ],
      [
        [':method', 'GET'],
        [':scheme', 'https'],
        [':path', '/index.html'],
        [':authority', 'www.example.com'],
        ['custom-key', 'custom-value'],
      ],
    ];
    const requestTables = [
      [[':authority', 'www.example.com']],
      [
        ['cache-control', 'no-cache'],
        [':authority', 'www.example.com'],
      ],
      [
        ['custom-key', 'custom-value'],
        ['cache-control', 'no-cache'],
        [':authority', 'www.example.com'],
      ],
    ];
    const requestSizes = [57, 110, 164];

    for (const [section, blocks] of [
      [
        'C.3 (requests, raw strings)',
        [
          '8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d',
          '8286 84be 5808 6e6f 2d63 6163 6865',
          '8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65',
        ],
      ],
      [
        'C.4 (requests, Huffman)',
        ['8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff', '8286 84be 5886 a8eb 1064 9cbf', '8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf'],
      ],
    ] as const) {
      it(`${section}: three requests on one decoder`, () => {
        const decoder = new HpackDecoder();
        blocks.forEach((block, i) => {
          expect(pairs(decoder.decode(hex(block))), `request ${i + 1}`).to.deep.equal(requests[i]);
          expect(tableOf(decoder), `table after request ${i + 1}`).to.deep.equal(requestTables[i]);
          expect(decoder.dynamicTable.size).to.equal(requestSizes[i]);
        });
      });
    }

    const date1 = 'Mon, 21 Oct 2013 20:13:21 GMT';
    const date2 = 'Mon, 21 Oct 2013 20:13:22 GMT';
    const location = 'https://www.example.com';
    const cookie = 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1';
    const responses = [
      [
        [':status', '302'],
        ['cache-control', 'private'],
        ['date', date1],
        ['location', location],
      ],
      [
        [':status', '307'],
        ['cache-control', 'private'],
        ['date', date1],
        ['location', location],
      ],
      [
        [':status', '200'],
        ['cache-control', 'private'],
        ['date', date2],
        ['location', location],
        ['content-encoding', 'gzip'],
        ['set-cookie', cookie],
      ],
    ];
    const responseTables = [
      [
        ['location', location],
        ['date', date1],
        ['cache-control', 'private'],
        [':status', '302'],
      ],
      [
        [':status', '307'],
        ['location', location],
        ['date', date1],
        ['cache-control', 'private'],
      ],
      [
        ['set-cookie', cookie],
        ['content-encoding', 'gzip'],
        ['date', date2],
      ],
    ];
    const responseSizes = [222, 222, 215];

    for (const [section, blocks] of [
      [
        'C.5 (responses, raw strings)',
        [
          '4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d',
          '4803 3330 37c1 c0bf',
          '88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31',
        ],
      ],
      [
        'C.6 (responses, Huffman)',
        [
          '4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3',
          '4883 640e ffc1 c0bf',
          '88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07',
        ],
      ],
    ] as const) {
      it(`${section}: three responses with evictions from a 256-byte table`, () => {
        const decoder = new HpackDecoder(256);
        blocks.forEach((block, i) => {
          expect(pairs(decoder.decode(hex(block))), `response ${i + 1}`).to.deep.equal(responses[i]);
          expect(tableOf(decoder), `table after response ${i + 1}`).to.deep.equal(responseTables[i]);
          expect(decoder.dynamicTable.size).to.equal(responseSizes[i]);
        });
      });
    }
  });

  describe('dynamic table size', () => {
    it('applies size updates at the start of a block, up to the limit in force', () => {
      const decoder = new HpackDecoder();
      decoder.decode(hex('400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572'));
      expect(decoder.dynamicTable.length).to.equal(1);
      // 0x20: size update to 0 empties the table; then back to 4096 (3f e1 1f) and :method GET.
      expect(pairs(decoder.decode(hex('20 3fe11f 82')))).to.deep.equal([[':method', 'GET']]);
      expect(decoder.dynamicTable.length).to.equal(0);
      expect(decoder.dynamicTable.maxSize).to.equal(4096);
      expect(() => decoder.decode(hex('3fe21f'))).to.throw(HpackError, /above the limit 4096/);
      expect(() => decoder.decode(hex('82 20'))).to.throw(HpackError, /after a header field/);
    });

    it('follows a SETTINGS_HEADER_TABLE_SIZE change: a lower limit evicts at once, a higher one allows larger updates', () => {
      const decoder = new HpackDecoder();
      decoder.decode(hex('400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572'));
      decoder.setLimit(40);
      expect(decoder.dynamicTable.length).to.equal(0);
      expect(() => decoder.decode(hex('3f0a'))).to.throw(HpackError, /above the limit 40/); // 31 + 10 = 41
      decoder.setLimit(8192);
      decoder.decode(hex('3fe13f')); // 31 + 0x61 + (0x3f << 7) = 8192
      expect(decoder.dynamicTable.maxSize).to.equal(8192);
    });
  });

  describe('errors', () => {
    it('refuses index 0, indexes past the table, cut-short strings and integers, and oversized integers', () => {
      expect(() => new HpackDecoder().decode(hex('80'))).to.throw(HpackError, /index 0/);
      expect(() => new HpackDecoder().decode(hex('be'))).to.throw(HpackError, /past the dynamic table/);
      expect(() => new HpackDecoder().decode(hex('0408 2f73'))).to.throw(HpackError, /longer than the block/);
      expect(() => new HpackDecoder().decode(hex('04'))).to.throw(HpackError, /missing/);
      expect(() => new HpackDecoder().decode(hex('ff80'))).to.throw(HpackError, /cut short/);
      expect(() => new HpackDecoder().decode(hex('ffffffffff0f'))).to.throw(HpackError, /too large/);
    });

    it('refuses a block whose indexed fields would expand past 1 MiB', () => {
      const decoder = new HpackDecoder();
      // One 4000-byte entry, then 300 references to it (62 = 0xbe): ~1.2 MB decoded from ~4 KB.
      const value = 'v'.repeat(4000);
      const insert = Buffer.concat([hex('40 01 78 7f'), Buffer.from([0x80 | 0x21, 0x1e]), Buffer.from(value)]); // name 'x', value length 4000
      decoder.decode(insert);
      expect(decoder.dynamicTable.get(0)).to.deep.equal(['x', value]);
      expect(() => decoder.decode(Buffer.alloc(300, 0xbe))).to.throw(HpackError, /header list larger/);
    });
  });

  describe('the encoder (no indexing)', () => {
    it('writes C.2.2 byte for byte and uses static entries for whole fields', () => {
      expect(encodeHeaderBlock([{ name: ':path', value: '/sample/path' }])).to.deep.equal(hex('040c 2f73 616d 706c 652f 7061 7468'));
      expect(
        encodeHeaderBlock([
          { name: ':method', value: 'POST' },
          { name: ':scheme', value: 'http' },
        ]),
      ).to.deep.equal(hex('83 86'));
      expect(encodeHeaderBlock([{ name: 'password', value: 'secret', neverIndexed: true }])).to.deep.equal(hex('1008 7061 7373 776f 7264 0673 6563 7265 74'));
    });

    it('round-trips through the decoder and leaves its table empty, long values and all octets included', () => {
      const fields: HeaderField[] = [
        { name: ':method', value: 'POST' },
        { name: ':authority', value: '127.0.0.1:2379' },
        { name: ':path', value: '/etcdserverpb.Maintenance/Status' },
        { name: 'content-type', value: 'application/grpc' },
        { name: 'x-long', value: 'z'.repeat(70_000) },
        { name: 'x-octets', value: Buffer.from(Array.from({ length: 256 }, (_, i) => i)).toString('latin1') },
        { name: 'authorization', value: 'token', neverIndexed: true },
      ];
      const decoder = new HpackDecoder();
      expect(decoder.decode(encodeHeaderBlock(fields))).to.deep.equal(fields.map((f) => (f.neverIndexed ? f : { name: f.name, value: f.value })));
      expect(decoder.dynamicTable.length).to.equal(0);
    });
  });
});
