/** Configures a partition on an API served over HTTP, as an admin does before its first submit there. */
export async function configurePartition(url: string, token: string, name = 'batch'): Promise<void> {
  const response = await fetch(`${url}/v1/partitions/${name}`, {
    method: 'PUT',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: '{}',
  });
  if (!response.ok) throw new Error(`PUT /v1/partitions/${name}: ${response.status} ${await response.text()}`);
}
