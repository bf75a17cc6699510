/**
 * The shape of the network (#14 multi-hop): which servers have a link up with which, as each
 * server announces its own links (`peer-link` events, signed by the server that has the link), and
 * who is reachable from here, how far, through whom. Reachability decides netsplits: a server's
 * users leave this server's view when no path to it is left, not when one link drops.
 * An edge counts when either end announced it and the announcer is itself reachable (a server cut
 * off cannot keep others reachable through links it announced before the split).
 */
export interface Reach {
  /** hops from here (1: a direct link) */
  hops: number;
  /** the server it is reached through (this server's id for a direct link) */
  via: string;
}

export class Topology {
  /** links each server announced: server id → the ids it has a link up with */
  private readonly edges = new Map<string, Set<string>>();
  /** server id → the name it was announced under */
  readonly names = new Map<string, string>();

  constructor(private readonly self: string) {}

  /** `a` announced its link with `b` up or down */
  set(a: string, b: string, up: boolean): void {
    let s = this.edges.get(a);
    if (up) {
      if (!s) this.edges.set(a, (s = new Set()));
      s.add(b);
    } else {
      s?.delete(b);
    }
  }

  /** forget what `a` announced (it is gone: it will announce again when it is back) */
  forget(a: string): void {
    this.edges.delete(a);
  }

  /** the servers `a` announced links with */
  linksOf(a: string): string[] {
    return [...(this.edges.get(a) ?? [])];
  }

  /**
   * Every server reachable from here (not this one), by breadth-first search over links announced
   * by servers already reached (this server's own links first): an edge only the far end
   * announced, or announced by a server cut off, does not count.
   */
  reachable(): Map<string, Reach> {
    const out = new Map<string, Reach>();
    const queue: string[] = [this.self];
    let head = 0;
    while (head < queue.length) {
      const cur = queue[head++]!;
      const hops = cur === this.self ? 0 : out.get(cur)!.hops;
      for (const next of this.edges.get(cur) ?? []) {
        if (next === this.self || out.has(next)) continue;
        out.set(next, { hops: hops + 1, via: cur });
        queue.push(next);
      }
    }
    return out;
  }
}
