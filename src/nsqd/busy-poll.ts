// A short busy poll after network activity, when it pays.
//
// A client that publishes one message per round trip (PUB, wait for OK,
// repeat) sends its next command a few microseconds after our answer. If the
// event loop has gone to sleep in epoll_wait by then, the kernel must wake it
// up (on a virtual machine a cross-CPU wake-up costs tens of microseconds,
// more than everything nsqd does for the command). The original's Go runtime
// hides that by spinning idle threads for a while. This does the same with the
// event loop: for a short window after activity the loop keeps itself busy
// with setImmediate, which polls the sockets without blocking (Node, Bun; see
// Runtime.immediatePollsIo), so the next command is read at once.
//
// It only spins while it pays: when most recent arrivals came within the
// window of the activity before them (a request/response rhythm). Traffic with
// longer gaps, and an idle daemon, never spin, so a moderately loaded nsqd
// does not burn a core waiting.

/** How long after the last activity the loop keeps polling (microseconds). */
const WINDOW_US = 100;
/** Arrivals within the window raise the score (up to MAX), others lower it; spinning needs SPIN_AT. */
const MAX = 8;
const SPIN_AT = 4;

export class BusyPoll {
  #last = 0;
  #score = 0;
  #spinning = false;
  #stopped = false;
  readonly #windowMs: number;
  readonly #loop = (): void => {
    if (this.#stopped || performance.now() - this.#last > this.#windowMs) {
      this.#spinning = false;
      return;
    }
    setImmediate(this.#loop);
  };

  /** `windowUs` 0 turns spinning off (a runtime whose setImmediate does not poll the sockets). */
  constructor(windowUs = WINDOW_US) {
    this.#windowMs = windowUs / 1000;
  }

  /** Something arrived: keep polling for a while if arrivals come in a quick rhythm. */
  activity(): void {
    if (this.#windowMs <= 0) return;
    const now = performance.now();
    if (now - this.#last <= this.#windowMs) {
      if (this.#score < MAX) this.#score++;
    } else if (this.#score > 0) {
      this.#score -= 2;
    }
    this.#last = now;
    if (this.#spinning || this.#stopped || this.#score < SPIN_AT) return;
    this.#spinning = true;
    setImmediate(this.#loop);
  }

  /** Whether the loop is spinning now (for tests). */
  get spinning(): boolean {
    return this.#spinning;
  }

  stop(): void {
    this.#stopped = true;
  }
}
