/** Where a detail page sits, with the way back: `Jobs › build › Launch 3f2a…`. */
import { Link } from 'react-router';

export interface Crumb {
  label: string;
  /** Omitted for the page itself (the last crumb). */
  to?: string;
}

export function Breadcrumbs({ trail }: { trail: Crumb[] }) {
  return (
    <nav aria-label="Breadcrumb" className="breadcrumbs">
      <ol>
        {trail.map((crumb, index) => (
          <li key={`${crumb.label}-${index}`}>
            {crumb.to ? <Link to={crumb.to}>{crumb.label}</Link> : <span aria-current="page">{crumb.label}</span>}
          </li>
        ))}
      </ol>
    </nav>
  );
}
