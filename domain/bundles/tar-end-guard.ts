import { Transform, type TransformCallback } from "node:stream";
import { BundleRejectedError } from "./rejection";

const BLOCK = 512;
/** Archivers pad the end to their record size (10 KiB by default); this allows any sane one. */
const MAX_END_PADDING_BYTES = 1024 * 1024;
const SIZE_FIELD = { offset: 124, length: 12 };

/**
 * Passes an uncompressed tar stream through up to its end-of-archive marker (two zero blocks),
 * finding headers by the sizes they declare. The zero padding after the marker is dropped:
 * tar's parser crawls through a long run of zero blocks, so a small tar.gz with megabytes of
 * them would stall the intake. Padding past any archiver's record size, or data after the end,
 * is refused.
 */
export class TarEndGuard extends Transform {
  private position = 0;
  private nextHeader = 0;
  private readonly header = Buffer.alloc(BLOCK);
  private headerFill = 0;
  private zeroBlocks = 0;
  private endAt: number | undefined;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    try {
      done(null, this.archivePart(chunk));
    } catch (error) {
      done(error as Error);
    }
  }

  /** The part of the chunk that belongs to the archive. */
  private archivePart(chunk: Buffer): Buffer {
    let i = 0;
    while (i < chunk.length && this.endAt === undefined) {
      if (this.position < this.nextHeader) {
        const skip = Math.min(this.nextHeader - this.position, chunk.length - i);
        i += skip;
        this.position += skip;
        continue;
      }
      const copied = chunk.copy(this.header, this.headerFill, i, i + BLOCK - this.headerFill);
      this.headerFill += copied;
      i += copied;
      this.position += copied;
      if (this.headerFill === BLOCK) this.readHeader();
    }
    const archive = chunk.subarray(0, i);
    this.checkPadding(chunk.subarray(i));
    return archive;
  }

  private readHeader(): void {
    this.headerFill = 0;
    if (isZero(this.header)) {
      this.zeroBlocks += 1;
      this.nextHeader = this.position;
      if (this.zeroBlocks === 2) this.endAt = this.position;
      return;
    }
    this.zeroBlocks = 0;
    this.nextHeader = this.position + Math.ceil(declaredSize(this.header) / BLOCK) * BLOCK;
  }

  private checkPadding(rest: Buffer): void {
    if (rest.length === 0 || this.endAt === undefined) return;
    if (!isZero(rest)) {
      throw new BundleRejectedError(
        "CORRUPT_ARCHIVE",
        "tar.gz archive is corrupt: it has data after its end-of-archive marker",
      );
    }
    this.position += rest.length;
    if (this.position - this.endAt > MAX_END_PADDING_BYTES) {
      throw new BundleRejectedError(
        "CORRUPT_ARCHIVE",
        `tar.gz archive is corrupt: more than ${MAX_END_PADDING_BYTES} bytes of padding after its end`,
      );
    }
  }
}

function isZero(bytes: Buffer): boolean {
  for (const byte of bytes) if (byte !== 0) return false;
  return true;
}

/** The header's size field: octal digits, or GNU's base-256 for sizes over 8 GiB. */
function declaredSize(header: Buffer): number {
  const field = header.subarray(SIZE_FIELD.offset, SIZE_FIELD.offset + SIZE_FIELD.length);
  if ((field[0] ?? 0) & 0x80) {
    let size = (field[0] ?? 0) & 0x7f;
    for (const byte of field.subarray(1)) size = size * 256 + byte;
    return size;
  }
  const digits = field
    .toString("latin1")
    .replace(/[\0 ]+$/, "")
    .trim();
  if (!/^[0-7]*$/.test(digits)) {
    throw new BundleRejectedError(
      "CORRUPT_ARCHIVE",
      `tar.gz archive is corrupt: a header declares size "${digits}"`,
    );
  }
  return digits === "" ? 0 : Number.parseInt(digits, 8);
}
