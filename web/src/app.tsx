/**
 * The app: configuration from `/api/config`, sign-in, then the pages. Routes avoid the paths
 * repo-api keeps for itself (`/api`, `/admin`, `/docs`, `/repositories`, health), which it
 * would not answer with the app.
 */
import { useEffect, type ReactNode } from 'react';
import { BrowserRouter, Link, Navigate, Route, Routes, useLocation, useNavigate } from 'react-router';
import { QueryClientProvider, useQuery, type QueryClient } from '@tanstack/react-query';
import type { PublicConfig } from '@gha-slurm/core/api/types';
import { fetchConfig, queryKeys } from './api/endpoints.ts';
import { OIDC_CALLBACK_PATH, OidcBridge, OidcProvider, takeOidcReturnTo } from './auth/oidc.tsx';
import { SessionProvider, useSession } from './auth/session.tsx';
import { SignInPage } from './auth/sign-in-page.tsx';
import { LiveUpdatesProvider } from './events/live-updates.tsx';
import { JobDetailPage } from './jobs/job-detail-page.tsx';
import { JobsPage } from './jobs/jobs-page.tsx';
import { LaunchDetailPage } from './launches/launch-detail-page.tsx';
import { Layout } from './layout/layout.tsx';
import { Loading, PageHeading } from './layout/page.tsx';
import { AuditPage } from './ops/audit-page.tsx';
import { DeadLettersPage } from './ops/dead-letters-page.tsx';
import { QueuesPage } from './ops/queues-page.tsx';
import { UsersPage } from './ops/users-page.tsx';
import { OverviewPage } from './overview/overview-page.tsx';
import { MyRepositoriesPage } from './repositories/my-repositories-page.tsx';

function AdminOnly({ children }: { children: ReactNode }) {
  const { state } = useSession();
  if (state.status === 'signed-in' && state.me.admin) return <>{children}</>;
  return (
    <>
      <PageHeading title="Admins only" />
      <p>
        This page is for admins. <Link to="/repos">Go to your repositories</Link>.
      </p>
    </>
  );
}

/** Admins land on the overview, everyone else on their repositories. */
function Landing() {
  const { state } = useSession();
  const admin = state.status === 'signed-in' && state.me.admin;
  return <Navigate to={admin ? '/overview' : '/repos'} replace />;
}

function NotFound() {
  return (
    <>
      <PageHeading title="Page not found" />
      <p>
        There is no such page. <Link to="/repos">Go to your repositories</Link> or <Link to="/jobs">the jobs</Link>.
      </p>
    </>
  );
}

function OidcCallback() {
  const navigate = useNavigate();
  const { state } = useSession();
  useEffect(() => {
    if (state.status === 'signed-in') navigate(takeOidcReturnTo(), { replace: true });
  }, [state.status, navigate]);
  return <Loading what="your sign-in" />;
}

function SignedInRoutes() {
  return (
    <Layout>
      <Routes>
        <Route path="/" element={<Landing />} />
        <Route path={OIDC_CALLBACK_PATH} element={<OidcCallback />} />
        <Route path="/repos" element={<MyRepositoriesPage />} />
        <Route path="/jobs" element={<JobsPage />} />
        <Route path="/jobs/:id" element={<JobDetailPage />} />
        <Route path="/launches/:id" element={<LaunchDetailPage />} />
        <Route path="/overview" element={<AdminOnly><OverviewPage /></AdminOnly>} />
        <Route path="/ops" element={<Navigate to="/ops/dead-letters" replace />} />
        <Route path="/ops/users" element={<AdminOnly><UsersPage /></AdminOnly>} />
        <Route path="/ops/users/:username" element={<AdminOnly><UsersPage /></AdminOnly>} />
        <Route path="/ops/queues" element={<AdminOnly><QueuesPage /></AdminOnly>} />
        <Route path="/ops/dead-letters" element={<AdminOnly><DeadLettersPage /></AdminOnly>} />
        <Route path="/ops/audit" element={<AdminOnly><AuditPage /></AdminOnly>} />
        <Route path="*" element={<NotFound />} />
      </Routes>
    </Layout>
  );
}

/** Sign-in first; then the pages. */
export function Gate() {
  const { state } = useSession();
  const location = useLocation();
  switch (state.status) {
    case 'checking':
      return (
        <main id="main" className="centered">
          <Loading what="your session" />
        </main>
      );
    case 'unreachable':
      return (
        <main id="main" className="centered">
          <div className="error-box" role="alert">
            <p>repo-api could not be reached to check your sign-in. Check your connection.</p>
            <button type="button" onClick={state.retry}>
              Try again
            </button>
          </div>
        </main>
      );
    case 'signed-out': {
      const here = location.pathname === OIDC_CALLBACK_PATH ? '/' : `${location.pathname}${location.search}`;
      return <SignInPage returnTo={here} />;
    }
    case 'signed-in':
      return <SignedInRoutes />;
  }
}

function Signed({ config, children }: { config: PublicConfig; children: ReactNode }) {
  if (!config.oidc) return <SessionProvider config={config}>{children}</SessionProvider>;
  return (
    <OidcProvider oidc={config.oidc}>
      <OidcBridge clientId={config.oidc.clientId}>
        {(oidc) => (
          <SessionProvider config={config} oidc={oidc}>
            {children}
          </SessionProvider>
        )}
      </OidcBridge>
    </OidcProvider>
  );
}

function WithConfig() {
  const config = useQuery({ queryKey: queryKeys.config, queryFn: fetchConfig, staleTime: Infinity, retry: 3 });
  if (config.isPending) {
    return (
      <main id="main" className="centered">
        <Loading what="gha-slurm" />
      </main>
    );
  }
  if (config.isError) {
    return (
      <main id="main" className="centered">
        <div className="error-box" role="alert">
          <p>gha-slurm could not load its settings from repo-api ({config.error.message}). Check your connection.</p>
          <button type="button" onClick={() => void config.refetch()}>
            Try again
          </button>
        </div>
      </main>
    );
  }
  return (
    <Signed config={config.data}>
      <LiveUpdatesProvider>
        <Gate />
      </LiveUpdatesProvider>
    </Signed>
  );
}

export function App({ queryClient }: { queryClient: QueryClient }) {
  return (
    <QueryClientProvider client={queryClient}>
      <BrowserRouter>
        <WithConfig />
      </BrowserRouter>
    </QueryClientProvider>
  );
}
