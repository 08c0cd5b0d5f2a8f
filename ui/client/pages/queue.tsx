import type { PageProps } from '../routes.js';

export default function QueuePage(_props: PageProps) {
  return <h1>Queue</h1>;
}
