/**
 * The console's pages: one line each. A page is a module of ui/client/pages/ whose default export is a component
 * taking PageProps; it is loaded when first shown (a chunk of its own, see ui/build.ts). `nav` puts it in the menu,
 * `admin` shows it to admin sessions only. The first route matching the path wins; the last is the fallback.
 */
import type { FunctionComponent } from 'preact';

export interface PageProps {
  /** The path's parameters (`:id` in `/ui/jobs/:id`). */
  params: Record<string, string>;
  /** The path's query string. */
  query: URLSearchParams;
}

export interface Route {
  path: string;
  title: string;
  load: () => Promise<{ default: FunctionComponent<PageProps> }>;
  nav?: boolean;
  admin?: boolean;
}

export const ROUTES: Route[] = [
  { path: '/ui', title: 'Queue', load: () => import('./pages/queue.js') },
  { path: '/ui/queue', title: 'Queue', nav: true, load: () => import('./pages/queue.js') },
  { path: '/ui/jobs/:id', title: 'Job', load: () => import('./pages/job.js') },
  { path: '/ui/overview', title: 'Overview', nav: true, load: () => import('./pages/overview.js') },
  { path: '/ui/submit', title: 'Submit', nav: true, load: () => import('./pages/submit.js') },
  { path: '/ui/history', title: 'History', nav: true, load: () => import('./pages/history.js') },
  { path: '/ui/nodes', title: 'Nodes', nav: true, admin: true, load: () => import('./pages/nodes.js') },
  { path: '/ui/about', title: 'About', nav: true, load: () => import('./pages/about.js') },
];

/** The page for unknown paths. */
export const NOT_FOUND: Route = { path: '', title: 'Not found', load: () => import('./pages/not-found.js') };
