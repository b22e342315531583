import { HpackDynamicTable, ENTRY_OVERHEAD, type TableEntry } from './hpack-dynamic-table.js';
import { HpackError } from './hpack-error.js';
import { STATIC_TABLE } from './hpack-static-table.js';
import { huffmanDecode } from './huffman-code.js';

/** SETTINGS_HEADER_TABLE_SIZE's initial value (RFC 9113 §6.5.2). */
export const DEFAULT_HEADER_TABLE_SIZE = 4096;
/** Decoded header lists larger than this are refused: indexed fields could otherwise expand a small block without bound. */
export const MAX_DECODED_LIST_SIZE = 1 << 20;

/** One decoded header field; name and value are latin1 strings, one char per octet. */
export interface HeaderField {
  readonly name: string;
  readonly value: string;
  /** Sent as "never indexed" (§6.2.3): whoever forwards it must keep that representation. */
  readonly neverIndexed?: boolean;
}

/**
 * HPACK decoder (RFC 7541) for the header blocks one peer sends on one connection: every block
 * of the connection must go through it, in order, for its dynamic table to stay right.
 */
export class HpackDecoder {
  private readonly table: HpackDynamicTable;
  private limit: number;
  private block: Buffer = Buffer.alloc(0);
  private at = 0;

  /** `limit` is the SETTINGS_HEADER_TABLE_SIZE the receiving side has in force. */
  constructor(limit = DEFAULT_HEADER_TABLE_SIZE) {
    this.limit = limit;
    this.table = new HpackDynamicTable(limit);
  }

  /** The dynamic table, for inspection (tests). */
  get dynamicTable(): HpackDynamicTable {
    return this.table;
  }

  /**
   * A new SETTINGS_HEADER_TABLE_SIZE, once the peer has acknowledged it. A smaller limit shrinks the
   * table at once; the encoder then owes a size update (§4.2).
   */
  setLimit(limit: number): void {
    this.limit = limit;
    if (this.table.maxSize > limit) this.table.resize(limit);
  }

  /** Throws HpackError on anything RFC 7541 calls a decoding error. */
  decode(block: Buffer): HeaderField[] {
    this.block = block;
    this.at = 0;
    const fields: HeaderField[] = [];
    let listSize = 0;
    const add = (field: HeaderField): void => {
      listSize += field.name.length + field.value.length + ENTRY_OVERHEAD;
      if (listSize > MAX_DECODED_LIST_SIZE) throw new HpackError(`header list larger than ${MAX_DECODED_LIST_SIZE} bytes`);
      fields.push(field);
    };
    while (this.at < block.length) {
      const first = block[this.at]!;
      if (first & 0x80) {
        // Indexed header field (§6.1).
        const [name, value] = this.entry(this.integer(7));
        add({ name, value });
      } else if (first & 0x40) {
        // Literal with incremental indexing (§6.2.1).
        const field = this.literal(6);
        this.table.add(field.name, field.value);
        add(field);
      } else if (first & 0x20) {
        // Dynamic table size update (§6.3): only before the first field of a block (§4.2).
        if (fields.length > 0) throw new HpackError('dynamic table size update after a header field');
        const size = this.integer(5);
        if (size > this.limit) throw new HpackError(`dynamic table size update to ${size}, above the limit ${this.limit}`);
        this.table.resize(size);
      } else {
        // Literal without indexing (§6.2.2) or never indexed (§6.2.3).
        const field = this.literal(4);
        add(first & 0x10 ? { ...field, neverIndexed: true } : field);
      }
    }
    return fields;
  }

  private literal(prefixBits: number): HeaderField {
    const nameIndex = this.integer(prefixBits);
    const name = nameIndex === 0 ? this.string() : this.entry(nameIndex)[0];
    return { name, value: this.string() };
  }

  private entry(index: number): TableEntry {
    if (index === 0) throw new HpackError('index 0');
    if (index <= STATIC_TABLE.length) return STATIC_TABLE[index - 1]!;
    const entry = this.table.get(index - STATIC_TABLE.length - 1);
    if (entry === undefined) throw new HpackError(`index ${index} is past the dynamic table (${this.table.length} entries)`);
    return entry;
  }

  /** An integer with an N-bit prefix (§5.1); values past 2^31 are refused. */
  private integer(prefixBits: number): number {
    const block = this.block;
    const mask = (1 << prefixBits) - 1;
    let value = block[this.at++]! & mask;
    if (value < mask) return value;
    for (let shift = 0; ; shift += 7) {
      if (this.at >= block.length) throw new HpackError('integer cut short');
      const octet = block[this.at++]!;
      value += (octet & 0x7f) * 2 ** shift;
      if (value > 0x7fffffff) throw new HpackError('integer too large');
      if ((octet & 0x80) === 0) return value;
    }
  }

  /** A string literal (§5.2), Huffman-coded or raw, as latin1. */
  private string(): string {
    if (this.at >= this.block.length) throw new HpackError('string literal missing');
    const huffman = (this.block[this.at]! & 0x80) !== 0;
    const length = this.integer(7);
    const end = this.at + length;
    if (end > this.block.length) throw new HpackError('string literal longer than the block');
    const text = huffman ? huffmanDecode(this.block.subarray(this.at, end)) : this.block.toString('latin1', this.at, end);
    this.at = end;
    return text;
  }
}
