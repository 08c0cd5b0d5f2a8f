/** Who is calling: what their bearer token was made for. */
export type Principal =
  | { kind: 'admin'; tokenId: number | null; name: string }
  | { kind: 'user'; tokenId: number; name: string; account: string; user: string | null }
  | {
      kind: 'node';
      tokenId: number;
      name: string;
      nodeName: string;
      /** The partitions this node was enrolled to serve (its token's grant). */
      partitions: readonly string[];
    };

/** How a principal is named in job histories. */
export function actorName(principal: Principal): string {
  return `${principal.kind}:${principal.name}`;
}

/** The account a principal's job queries are limited to; undefined means every account (admin). */
export function accountScope(principal: Principal): string | undefined {
  return principal.kind === 'user' ? principal.account : undefined;
}
