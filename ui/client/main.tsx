/**
 * The console's entry: reads the session, shows the sign-in page until there is one, then the page the path names
 * (routes.tsx) inside the layout. Any 401 from the API (signed out elsewhere, token revoked) comes back to sign-in,
 * keeping the path to return to.
 */
import './styles.css';
import { render, type FunctionComponent } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { readSession, whenSignedOut, type Session } from './api.js';
import { Layout } from './layout.js';
import { LoginPage } from './pages/login.js';
import { matchPath, navigate, usePath, type Location } from './router.js';
import { NOT_FOUND, ROUTES, type PageProps, type Route } from './routes.js';
import { SessionContext } from './session.js';

const LOGIN_PATH = '/ui/login';

function routeOf(path: string, session: Session): { route: Route; params: Record<string, string> } {
  for (const route of ROUTES) {
    if (route.admin && session.kind !== 'admin') continue;
    const params = matchPath(route.path, path);
    if (params) return { route, params };
  }
  return { route: NOT_FOUND, params: {} };
}

/** Where to go after sign-in: the `next` path when it is one of the console's, else the queue. */
function nextPath(location: Location): string {
  const next = location.query.get('next');
  return next && next.startsWith('/ui/') && !next.startsWith('//') && !next.startsWith(LOGIN_PATH) ? next : '/ui';
}

function App() {
  const location = usePath();
  // undefined while asking who is signed in.
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  useEffect(() => {
    whenSignedOut(() => setSession(null));
    readSession().then(setSession, () => setSession(null));
  }, []);

  const onLogin = location.path === LOGIN_PATH;
  useEffect(() => {
    if (session === null && !onLogin) {
      navigate(`${LOGIN_PATH}?next=${encodeURIComponent(location.path + window.location.search)}`, { replace: true });
    } else if (session && onLogin) {
      navigate(nextPath(location), { replace: true });
    }
  }, [session, onLogin]);

  if (session === undefined) return <p class="loading">Loading…</p>;
  if (session === null || onLogin) return <LoginPage onSignedIn={setSession} />;
  const { route, params } = routeOf(location.path, session);
  return (
    <SessionContext.Provider value={session}>
      <Layout session={session} path={location.path} onSignedOut={() => setSession(null)}>
        <PageView key={location.path} route={route} props={{ params, query: location.query }} />
      </Layout>
    </SessionContext.Provider>
  );
}

/** The route's page, loaded on first use. */
function PageView({ route, props }: { route: Route; props: PageProps }) {
  const [page, setPage] = useState<{ component: FunctionComponent<PageProps> } | Error | undefined>(undefined);
  useEffect(() => {
    document.title = `${route.title} · SCNS-Conductor`;
    let current = true;
    route.load().then(
      (module) => current && setPage({ component: module.default }),
      (error: Error) => current && setPage(error),
    );
    return () => {
      current = false;
    };
  }, [route]);
  if (page === undefined) return <p class="loading">Loading…</p>;
  if (page instanceof Error) return <p role="alert">This page could not be loaded: {page.message}</p>;
  const Page = page.component;
  return <Page {...props} />;
}

render(<App />, document.getElementById('app')!);
