/** The signed-in session, for every component: `useSession()` answers it (the app shows pages only when signed in). */
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Session } from './api.js';

export const SessionContext = createContext<Session | null>(null);

/** The session; only pages shown signed in call it. */
export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in page');
  return session;
}
