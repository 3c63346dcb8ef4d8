import { closeSync, existsSync, openSync, readFileSync, writeSync } from "node:fs";
import { writeFileAtomic } from "../files";

/**
 * A stream consumer's checkpoint: the sequence number it has handled up to, in a small JSON
 * file. Sequence numbers all have 21 digits, so each new checkpoint is as long as the last and
 * overwrites it in place with one write(2) of a few dozen bytes, which a killed process cannot
 * leave half done; a checkpoint of another length (the first one) is written beside it and
 * renamed over it. Neither is flushed to the disk: a power cut may lose the last moments.
 */
export class CheckpointFile {
  private fd: number | undefined;
  private length = -1;

  constructor(private readonly file: string) {}

  read(): string | undefined {
    if (!existsSync(this.file)) return undefined;
    return (JSON.parse(readFileSync(this.file, "utf8")) as { sequenceNumber: string })
      .sequenceNumber;
  }

  write(sequenceNumber: string): void {
    const content = Buffer.from(JSON.stringify({ sequenceNumber }));
    if (this.fd !== undefined && content.length === this.length) {
      writeSync(this.fd, content, 0, content.length, 0);
      return;
    }
    this.close();
    writeFileAtomic(this.file, content.toString());
    this.fd = openSync(this.file, "r+");
    this.length = content.length;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.length = -1;
  }
}
