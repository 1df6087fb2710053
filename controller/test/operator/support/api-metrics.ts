/** How many `POST /sessions` a Peering API has answered, from its own /metrics (any status). */
export async function postsAnswered(origin: string, basePath = '/v0.1'): Promise<number> {
  const text = await (await fetch(`${origin}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith('peering_api_requests_total{')) continue;
    if (!line.includes(`route="${basePath}/sessions"`) || !line.includes('method="POST"')) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}
