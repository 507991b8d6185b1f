/**
 * Where a body goes on disk. The socket reads straight into the sink's own buffers (slabs), and
 * one positional write at a time takes whatever gathered while the previous one ran: a fast
 * download makes few large writes, a slow one writes each read at once. Nothing is allocated
 * per read, so a large file costs the garbage collector nothing. When every slab waits on the
 * disk there is no room, and reading pauses until a write frees one.
 */
import fs from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

/** Size of one slab; reads from the socket are as large as the room left in it. */
export const SLAB_BYTES = 256 * 1024;
/** Slabs per download at most: 1 MiB of buffers while the disk lags, one slab while it keeps up. */
const MAX_SLABS = 4;
/** A read is never offered less room than this. */
const MIN_ROOM = 64 * 1024;

export class FileSink {
  private slab: Buffer | null = null;
  /** Bytes of `slab` taken so far, and where the ones not yet handed to a write begin. */
  private filled = 0;
  private queued = 0;
  /** Taken bytes of earlier slabs waiting for the next write, and those slabs. */
  private waiting: Buffer[] = [];
  private retired: Buffer[] = [];
  private readonly spare: Buffer[] = [];
  private slabs = 0;
  private writing = false;
  /** Set by `discard`: nothing more is written. */
  private stopped = false;
  private failure: Error | null = null;
  private onRoom: (() => void) | null = null;
  private onIdle: (() => void) | null = null;
  private closing: Promise<void> | null = null;

  private constructor(
    private readonly file: FileHandle,
    private position: number,
    private readonly onError: (err: Error) => void,
    private readonly beforeWrite: (() => Promise<void>) | undefined,
  ) {}

  /**
   * Opens `filePath` for the body: created afresh, or written from `offset` on (whatever lies
   * beyond was never counted). `onError` hears of a failed write once. `beforeWrite`, when
   * given, runs before each write and may refuse it by rejecting (see ./fence): that fails the
   * sink as a failed write would.
   */
  static async open(filePath: string, offset: number, onError: (err: Error) => void, beforeWrite?: () => Promise<void>): Promise<FileSink> {
    const file = await open(filePath, offset > 0 ? 'r+' : 'w');
    return new FileSink(file, offset, onError, beforeWrite);
  }

  /** Where the next bytes may be read into (at least MIN_ROOM), or null while every slab waits on the disk. */
  room(): Buffer | null {
    if (this.failure || this.stopped) return null;
    if (this.slab && this.slab.length - this.filled >= MIN_ROOM) return this.slab.subarray(this.filled);
    if (this.slab) {
      if (this.filled > this.queued) this.waiting.push(this.slab.subarray(this.queued, this.filled));
      this.retired.push(this.slab);
      this.slab = null;
      this.write(); // its bytes go out now, or it is free at once when no write is under way
    }
    const next = this.spare.pop() ?? this.newSlab();
    if (!next) return null;
    this.slab = next;
    this.filled = this.queued = 0;
    return next;
  }

  /** `length` bytes now fill the start of the last `room()`; returns them (they are written soon). */
  take(length: number): Buffer {
    const taken = this.slab!.subarray(this.filled, this.filled + length);
    this.filled += length;
    this.write();
    return taken;
  }

  /** Calls `callback` once, as soon as `room()` would give room again. */
  whenRoom(callback: () => void): void {
    if (this.hasRoom()) callback();
    else this.onRoom = callback;
  }

  /** Writes what is left and closes the file; rejects with the error of a write that failed. */
  async finish(): Promise<void> {
    await this.close();
    if (this.failure) throw this.failure;
  }

  /** Waits for the write under way, drops the bytes behind it and closes the file. Never rejects. */
  discard(): Promise<void> {
    this.stopped = true;
    return this.close().catch(() => undefined); // a close that fails leaves nothing to undo
  }

  /** Closes the file once no write is under way; every caller waits for the same close. */
  private close(): Promise<void> {
    this.closing ??= this.idle().then(() => this.file.close());
    return this.closing;
  }

  private newSlab(): Buffer | null {
    if (this.slabs === MAX_SLABS) return null;
    this.slabs++;
    return Buffer.allocUnsafeSlow(SLAB_BYTES);
  }

  private hasRoom(): boolean {
    if (this.failure || this.stopped) return false;
    return (this.slab !== null && this.slab.length - this.filled >= MIN_ROOM) || this.spare.length > 0 || this.slabs < MAX_SLABS;
  }

  private idle(): Promise<void> {
    return this.writing ? new Promise((resolve) => (this.onIdle = resolve)) : Promise.resolve();
  }

  private write(): void {
    if (this.writing) return;
    const writable = !this.stopped && !this.failure;
    const parts = writable ? this.waiting : [];
    if (writable && this.slab && this.filled > this.queued) parts.push(this.slab.subarray(this.queued, this.filled));
    this.queued = this.filled;
    this.waiting = [];
    // No write is under way: each retired slab's bytes are written already or among `parts`.
    const freed = this.retired;
    this.retired = [];
    if (parts.length === 0) {
      this.release(freed);
      const idle = this.onIdle;
      this.onIdle = null;
      return idle?.();
    }
    this.writing = true;
    const at = this.position;
    this.position += parts.reduce((sum, part) => sum + part.length, 0);
    const written = (err: Error | null) => {
      this.writing = false;
      if (err) {
        this.failure = err;
        this.onError(err);
      } else {
        this.release(freed);
      }
      this.write();
    };
    if (!this.beforeWrite) return fs.writev(this.file.fd, parts, at, written);
    this.beforeWrite().then(
      () => fs.writev(this.file.fd, parts, at, written),
      (refused: Error) => written(refused),
    );
  }

  private release(slabs: Buffer[]): void {
    this.spare.push(...slabs);
    if (this.onRoom && this.hasRoom()) {
      const resume = this.onRoom;
      this.onRoom = null;
      resume();
    }
  }
}
