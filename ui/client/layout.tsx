/**
 * The frame of every signed-in page: a skip link, the menu (the routes marked `nav`, admin ones for admins only),
 * who is signed in, sign-out, and the page.
 */
import type { ComponentChildren } from 'preact';
import { signOut, type Session } from './api.js';
import { Link, matchPath } from './router.js';
import { ROUTES } from './routes.js';

interface LayoutProps {
  session: Session;
  path: string;
  onSignedOut: () => void;
  children: ComponentChildren;
}

export function Layout({ session, path, onSignedOut, children }: LayoutProps) {
  const menu = ROUTES.filter((route) => route.nav && (!route.admin || session.kind === 'admin'));
  const who =
    session.kind === 'admin' ? `${session.name} (admin)` : `${session.user ?? session.name} · ${session.account}`;
  const leave = async () => {
    await signOut();
    onSignedOut();
  };
  return (
    <>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="top">
        <Link href="/ui" class="brand">
          SCNS-Conductor
        </Link>
        <nav aria-label="Pages">
          <ul>
            {menu.map((route) => (
              <li key={route.path}>
                <Link href={route.path} aria-current={matchPath(route.path, path) ? 'page' : undefined}>
                  {route.title}
                </Link>
              </li>
            ))}
            <li>
              <a href="/docs">API reference</a>
            </li>
          </ul>
        </nav>
        <div class="who">
          <span data-testid="signed-in-as">{who}</span>
          <button type="button" onClick={() => void leave()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}
