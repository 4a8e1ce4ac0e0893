/**
 * Minimal LRU map: O(1) get/set/delete/oldest via a Map of nodes plus a doubly linked list.
 * (A plain Map used as an LRU by delete+re-set degrades on V8: iterating from the front has to skip
 * the holes left by deletions, so "take the oldest" becomes O(n) between rehashes.)
 */
interface Node<V> {
  key: string;
  value: V;
  prev: Node<V> | undefined;
  next: Node<V> | undefined;
}

export class Lru<V> {
  private readonly map = new Map<string, Node<V>>();
  private head: Node<V> | undefined; // least recently set
  private tail: Node<V> | undefined; // most recently set

  get size(): number {
    return this.map.size;
  }

  get(key: string): V | undefined {
    return this.map.get(key)?.value;
  }

  /** Insert or update, making the key the most recent. */
  set(key: string, value: V): void {
    let node = this.map.get(key);
    if (node) {
      node.value = value;
      this.unlink(node);
    } else {
      node = { key, value, prev: undefined, next: undefined };
      this.map.set(key, node);
    }
    node.prev = this.tail;
    if (this.tail) this.tail.next = node;
    this.tail = node;
    this.head ??= node;
  }

  delete(key: string): void {
    const node = this.map.get(key);
    if (!node) return;
    this.unlink(node);
    this.map.delete(key);
  }

  /** The least recently set entry. */
  oldest(): { key: string; value: V } | undefined {
    return this.head ? { key: this.head.key, value: this.head.value } : undefined;
  }

  /** Remove and return the least recently set entry. */
  shift(): { key: string; value: V } | undefined {
    const h = this.head;
    if (!h) return undefined;
    this.unlink(h);
    this.map.delete(h.key);
    return { key: h.key, value: h.value };
  }

  private unlink(node: Node<V>): void {
    if (node.prev) node.prev.next = node.next;
    else this.head = node.next;
    if (node.next) node.next.prev = node.prev;
    else this.tail = node.prev;
    node.prev = undefined;
    node.next = undefined;
  }
}
