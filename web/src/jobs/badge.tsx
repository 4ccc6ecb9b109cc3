/** A state in its colour: the words and tone come from `job-words.ts`, the one place that decides them. */
import type { Badge } from './job-words.ts';

export function StateBadge({ badge }: { badge: Badge }) {
  return <span className={`tag tag-${badge.tone}`}>{badge.text}</span>;
}
