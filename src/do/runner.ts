/**
 * One work loop at a time inside an object. A call that arrives during a run makes the run go
 * round once more (with the strongest `force` asked for) and resolves when that round is done,
 * so a caller never returns before its request was looked at.
 */
export class SerialRunner {
  private running: Promise<void> | undefined;
  private again: { force: boolean } | undefined;

  constructor(private readonly pass: (force: boolean) => Promise<void>) {}

  run(force = false): Promise<void> {
    if (this.running) {
      this.again = { force: force || (this.again?.force ?? false) };
      return this.running;
    }
    this.running = (async () => {
      let next: { force: boolean } | undefined = { force };
      while (next) {
        this.again = undefined;
        await this.pass(next.force);
        next = this.again;
      }
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }
}
