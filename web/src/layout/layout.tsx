/**
 * The frame around every signed-in page: a skip link, the navigation (the operator pages
 * only for admins), who is signed in, and sign-out. On a phone the navigation folds into a
 * menu button.
 */
import { useEffect, useState, type ReactNode } from 'react';
import { NavLink, useLocation } from 'react-router';
import { useMe, useSession } from '../auth/session.tsx';

export const QUEUE_DASHBOARD_URL = '/admin/queues';

export function Layout({ children }: { children: ReactNode }) {
  const me = useMe();
  const { signOut } = useSession();
  const [menuOpen, setMenuOpen] = useState(false);
  const location = useLocation();
  useEffect(() => setMenuOpen(false), [location.pathname]);

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="top">
        <div className="brand">
          <span aria-hidden="true">⚙</span> gha-slurm
        </div>
        <button
          type="button"
          className="menu-button"
          aria-expanded={menuOpen}
          aria-controls="site-nav"
          onClick={() => setMenuOpen((open) => !open)}
        >
          Menu
        </button>
        <nav id="site-nav" aria-label="Main" className={menuOpen ? 'open' : undefined}>
          <ul>
            {me.admin && (
              <li>
                <NavLink to="/overview">Overview</NavLink>
              </li>
            )}
            <li>
              <NavLink to="/repos">My repositories</NavLink>
            </li>
            <li>
              {/* A launch's page sits under Jobs (its breadcrumbs begin there), so Jobs stays lit on it. */}
              <NavLink to="/jobs" className={({ isActive }) => (isActive || location.pathname.startsWith('/launches/') ? 'active' : undefined)}>
                Jobs
              </NavLink>
            </li>
            {me.admin && (
              <>
                <li>
                  <NavLink to="/ops/users">Users</NavLink>
                </li>
                <li>
                  <NavLink to="/ops/queues">Queues</NavLink>
                </li>
                <li>
                  <NavLink to="/ops/dead-letters">Dead letters</NavLink>
                </li>
                <li>
                  <NavLink to="/ops/audit">Audit log</NavLink>
                </li>
                <li>
                  <a href={QUEUE_DASHBOARD_URL} target="_blank" rel="noopener">
                    Queue dashboard<span className="visually-hidden"> (opens in a new tab)</span>
                  </a>
                </li>
              </>
            )}
          </ul>
          <div className="who">
            <span>
              Signed in as <strong>{me.username}</strong>
              {me.admin && <span className="badge">admin</span>}
            </span>
            <button type="button" onClick={() => void signOut()}>
              Sign out
            </button>
          </div>
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}
