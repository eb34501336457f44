// The retry-cache identity of this client's writes: one call id counter for the client, and the
// set of call ids still waiting for an answer, so every write can say (in O(1)) which is the
// lowest one still wanted (firstUnreplied): the stores may forget replies below it.

export class CallIds {
  private next = 1;
  /** Insertion order = allocation order = increasing ids, so the first element is the lowest. */
  private readonly waiting = new Set<number>();

  allocate(): number {
    const id = this.next++;
    this.waiting.add(id);
    return id;
  }

  /** The call got its answer (or was given up): its reply may be forgotten. */
  release(id: number): void {
    this.waiting.delete(id);
  }

  firstUnreplied(): number {
    return this.waiting.values().next().value ?? this.next;
  }

  /** Call ids still waiting (for tests and status). */
  get pending(): number {
    return this.waiting.size;
  }
}
