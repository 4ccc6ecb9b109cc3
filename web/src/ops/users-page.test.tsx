import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { MemoryRouter, useLocation } from 'react-router';
import { describe, expect, it } from 'vitest';
import type { UserList } from '@gha-slurm/core/api/types';
import { Gate } from '../app.tsx';
import { SessionProvider, TOKEN_STORAGE_KEY } from '../auth/session.tsx';
import { config, fakeFetch, json, me } from '../test/fixtures.ts';

const everyone: UserList = {
  users: [
    { username: 'alice', repositories: 3 },
    { username: 'bob', repositories: 1 },
  ],
  total: 2,
};

function Where() {
  const location = useLocation();
  return <output data-testid="location">{location.pathname}</output>;
}

function renderUsersPage(routes: Parameters<typeof fakeFetch>[0]) {
  sessionStorage.setItem(TOKEN_STORAGE_KEY, 'ops-token-0123456789');
  const api = fakeFetch({
    'POST /api/session': () => json(200, { username: 'ops', admin: true, expiresAt: '2026-05-01T18:00:00.000Z' }),
    'GET /api/me': () => json(200, me({ username: 'ops', admin: true })),
    'GET /api/users': () => json(200, everyone),
    ...routes,
  });
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={queryClient}>
      <MemoryRouter initialEntries={['/ops/users']}>
        <SessionProvider config={config} fetch={api.fetch}>
          <Gate />
          <Where />
        </SessionProvider>
      </MemoryRouter>
    </QueryClientProvider>,
  );
  return { ...api, user: userEvent.setup() };
}

describe('the users page', () => {
  it('lists every user with repositories and their counts, each a link to their list', async () => {
    renderUsersPage({});
    const table = await screen.findByRole('table', { name: /Users and how many repositories/ });
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows.map((row) => row.textContent)).toEqual(['alice3', 'bob1']);
    expect(within(rows[0]!).getByRole('link', { name: 'alice' })).toHaveAttribute('href', '/ops/users/alice');
    expect(screen.getByText('2 users.')).toBeInTheDocument();
  });

  it('searches as the admin types, by name or repository, and says how many match', async () => {
    const { user, calls } = renderUsersPage({
      'GET /api/users?search=thesis': () => json(200, { users: [{ username: 'bob', repositories: 1 }], total: 2 }),
      'GET /api/users?search=zzz': () => json(200, { users: [], total: 2 }),
    });
    await screen.findByRole('table');
    await user.type(screen.getByRole('searchbox', { name: 'Search users or repositories' }), 'thesis');
    expect(await screen.findByText('1 user of 2 match "thesis".')).toBeInTheDocument();
    expect(screen.queryByRole('link', { name: 'alice' })).not.toBeInTheDocument();
    expect(calls.some((call) => call.path === '/api/users?search=thesis')).toBe(true);

    await user.clear(screen.getByRole('searchbox'));
    await user.type(screen.getByRole('searchbox'), 'zzz');
    expect(await screen.findByText('0 users of 2 match "zzz".')).toBeInTheDocument();
    expect(screen.queryByRole('table')).not.toBeInTheDocument();
  });

  it('opens any cluster account by name, and refuses a name that is not one', async () => {
    const { user } = renderUsersPage({
      'GET /repositories/carol': () => json(200, { username: 'carol', repositories: [] }),
      'GET /api/users?search=carol': () => json(200, { users: [], total: 2 }),
      'GET /api/users?search=not+a+name': () => json(200, { users: [], total: 2 }),
    });
    await screen.findByRole('table');
    const box = screen.getByRole('searchbox');
    await user.type(box, 'Not a name');
    await user.click(screen.getByRole('button', { name: 'Open' }));
    expect(screen.getByText(/A cluster account name starts with a lower-case letter/)).toHaveAttribute('role', 'alert');

    await user.clear(box);
    await user.type(box, 'carol{Enter}');
    expect(await screen.findByRole('heading', { level: 1, name: 'Repositories of carol' })).toBeInTheDocument();
    expect(screen.getByTestId('location')).toHaveTextContent('/ops/users/carol');
    expect(screen.getByRole('link', { name: '← All users' })).toHaveAttribute('href', '/ops/users');
  });

  it('says so when nobody has repositories yet', async () => {
    renderUsersPage({ 'GET /api/users': () => json(200, { users: [], total: 0 }) });
    expect(await screen.findByText(/Nobody has repositories yet/)).toBeInTheDocument();
  });
});
