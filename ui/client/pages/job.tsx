import type { PageProps } from '../routes.js';

export default function JobPage({ params }: PageProps) {
  return <h1>Job {params.id}</h1>;
}
