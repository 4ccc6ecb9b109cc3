/**
 * Rules that each apply a given number of times (`times`; without it, always): the simulator's
 * fault plans for REST calls and for webhook deliveries keep theirs here.
 */
export class CountedRules<Rule extends { times?: number }> {
  private rules: Array<{ rule: Rule; remaining: number }> = [];

  /** Adds a rule; returns a function that removes it. */
  add(rule: Rule): () => void {
    const active = { rule, remaining: rule.times ?? Number.POSITIVE_INFINITY };
    this.rules.push(active);
    return () => {
      this.rules = this.rules.filter((entry) => entry !== active);
    };
  }

  clear(): void {
    this.rules = [];
  }

  /** The first rule that `applies` (asked in the order rules were added); it counts one use. */
  take(applies: (rule: Rule) => boolean): Rule | undefined {
    const active = this.rules.find((entry) => entry.remaining > 0 && applies(entry.rule));
    if (!active) return undefined;
    active.remaining -= 1;
    if (active.remaining <= 0) this.rules = this.rules.filter((entry) => entry !== active);
    return active.rule;
  }
}
